using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Evaluation;

/// <summary>Overlap measures between pixel masks.</summary>
public static class MaskMetrics
{
    /// <summary>
    /// Intersection over union (Jaccard index) of two masks of the same width and height:
    /// <c>|a AND b| / |a OR b|</c>, in pixels, a value in [0, 1]. Symmetric; <c>IoU(a, a) = 1</c>.
    /// By convention two empty masks have IoU 1.0 (they agree perfectly).
    /// </summary>
    /// <exception cref="ArgumentException">When the masks differ in width or height.</exception>
    public static double IoU(BinaryMask a, BinaryMask b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Width != b.Width || a.Height != b.Height)
        {
            throw new ArgumentException($"masks must have the same size, got {a.Width}x{a.Height} and {b.Width}x{b.Height}", nameof(b));
        }

        var intersection = 0;
        var union = 0;
        var x = a.Data;
        var y = b.Data;
        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] & y[i])
            {
                intersection++;
            }

            if (x[i] | y[i])
            {
                union++;
            }
        }

        return union == 0 ? 1.0 : (double)intersection / union;
    }
}
