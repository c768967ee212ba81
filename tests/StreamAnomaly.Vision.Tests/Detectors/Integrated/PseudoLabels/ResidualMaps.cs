using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.PseudoLabels;

/// <summary>Hand-built residual maps and masks: 1 on drawn pixels, 0 elsewhere.</summary>
internal sealed class ResidualMaps(int width, int height)
{
    public float[] Values { get; } = new float[width * height];

    public ResidualMaps Rect(int left, int top, int rectWidth, int rectHeight, float value = 1f)
    {
        for (var y = top; y < top + rectHeight; y++)
        {
            for (var x = left; x < left + rectWidth; x++)
            {
                Values[(y * width) + x] = value;
            }
        }

        return this;
    }

    public ResidualMaps Pixel(int x, int y, float value = 1f) => Rect(x, y, 1, 1, value);

    public AnomalyMap Map() => new(width, height, (float[])Values.Clone());

    /// <summary>A rectangle's mask, optionally without its four corner pixels (a rectangle after opening with the 3x3 ellipse, a cross).</summary>
    public static BinaryMask RectMask(int width, int height, int left, int top, int rectWidth, int rectHeight, bool cutCorners = false)
    {
        var data = new bool[width * height];
        for (var y = top; y < top + rectHeight; y++)
        {
            for (var x = left; x < left + rectWidth; x++)
            {
                var corner = (x == left || x == left + rectWidth - 1) && (y == top || y == top + rectHeight - 1);
                data[(y * width) + x] = !(cutCorners && corner);
            }
        }

        return new BinaryMask(width, height, data);
    }

    public static BinaryMask Union(BinaryMask a, BinaryMask b) =>
        new(a.Width, a.Height, a.Data.Zip(b.Data, static (p, q) => p || q).ToArray());
}
