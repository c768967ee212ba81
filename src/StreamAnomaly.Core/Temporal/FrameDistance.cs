using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Temporal;

/// <summary>
/// The weak-label signal of the background-masking paper: d(t), the distance between frame 0 and
/// frame t of a clip. A machine that repeats its cycle makes d periodic (near 0 whenever the
/// machine is back where it was at frame 0).
/// </summary>
/// <remarks>
/// Definition used here (the "mean L2 pixel distance"): for every pixel, the Euclidean norm of the
/// difference of its channel vectors (B, G, R for frames), averaged over all pixels:
/// <c>d(t) = (1 / P) * sum_p || x_t[p] - x_0[p] ||_2</c>. Units are those of the input: for 8-bit
/// frames, grey levels, so <c>0 &lt;= d &lt;= 255 * sqrt(3)</c>. <c>d(0) = 0</c> always.
/// With one channel per pixel this is the mean absolute difference.
/// </remarks>
public static class FrameDistance
{
    /// <summary>d(t) for 8-bit BGR frames, all of the same size; one value per frame, in grey levels.</summary>
    public static double[] Compute(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            return [];
        }

        var first = frames[0];
        var pixels = first.Width * first.Height;
        var result = new double[frames.Count];
        for (var t = 1; t < frames.Count; t++)
        {
            var frame = frames[t];
            if (frame.Width != first.Width || frame.Height != first.Height)
            {
                throw new ArgumentException(
                    $"frame {t} is {frame.Width}x{frame.Height}, frame 0 is {first.Width}x{first.Height}", nameof(frames));
            }

            ReadOnlySpan<byte> a = first.Bgr;
            ReadOnlySpan<byte> b = frame.Bgr;
            var sum = 0.0;
            for (var p = 0; p < pixels; p++)
            {
                var i = p * 3;
                int db = b[i] - a[i], dg = b[i + 1] - a[i + 1], dr = b[i + 2] - a[i + 2];
                sum += Math.Sqrt((db * db) + (dg * dg) + (dr * dr));
            }

            result[t] = sum / pixels;
        }

        return result;
    }

    /// <summary>
    /// d(t) for frames given as float vectors of equal length, <paramref name="channels"/> interleaved
    /// values per pixel (length a multiple of it): per-pixel L2 norm over the channels, mean over pixels.
    /// With <paramref name="channels"/> = 1 this is the mean absolute difference.
    /// </summary>
    public static double[] Compute(IReadOnlyList<float[]> frames, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (frames.Count == 0)
        {
            return [];
        }

        var first = frames[0] ?? throw new ArgumentException("frame 0 is null", nameof(frames));
        if (first.Length == 0 || first.Length % channels != 0)
        {
            throw new ArgumentException(
                $"frame length {first.Length} is not a positive multiple of {channels} channels", nameof(frames));
        }

        var pixels = first.Length / channels;
        var result = new double[frames.Count];
        for (var t = 1; t < frames.Count; t++)
        {
            var frame = frames[t] ?? throw new ArgumentException($"frame {t} is null", nameof(frames));
            if (frame.Length != first.Length)
            {
                throw new ArgumentException($"frame {t} has {frame.Length} values, frame 0 has {first.Length}", nameof(frames));
            }

            var sum = 0.0;
            for (var p = 0; p < pixels; p++)
            {
                var squares = 0.0;
                for (var c = 0; c < channels; c++)
                {
                    double diff = frame[(p * channels) + c] - first[(p * channels) + c];
                    squares += diff * diff;
                }

                sum += Math.Sqrt(squares);
            }

            result[t] = sum / pixels;
        }

        return result;
    }
}
