namespace StreamAnomaly.Core.Imaging;

/// <summary>
/// A per-pixel yes/no mask, row-major (<c>Data.Length == Width * Height</c>); <c>true</c> marks a
/// pixel inside the region (an object, an anomaly, a region of interest).
/// </summary>
public sealed record BinaryMask
{
    public BinaryMask(int width, int height, bool[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != checked(width * height))
        {
            throw new ArgumentException($"a {width}x{height} mask needs {width * height} values, got {data.Length}", nameof(data));
        }

        Width = width;
        Height = height;
        Data = data;
    }

    public int Width { get; }

    public int Height { get; }

    public bool[] Data { get; }

    /// <summary>Number of pixels inside the region.</summary>
    public int Area => Data.Count(static v => v);

    /// <summary>An all-false mask.</summary>
    public static BinaryMask Empty(int width, int height) => new(width, height, new bool[width * height]);

    /// <summary>The mask sampled at <paramref name="width"/> x <paramref name="height"/>: each target pixel takes the source pixel under its centre.</summary>
    public BinaryMask Resized(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var data = new bool[width * height];
        for (var y = 0; y < height; y++)
        {
            var sy = (int)((y + 0.5) * Height / height);
            for (var x = 0; x < width; x++)
            {
                data[(y * width) + x] = Data[(sy * Width) + (int)((x + 0.5) * Width / width)];
            }
        }

        return new BinaryMask(width, height, data);
    }

    /// <summary>The complement: true where this mask is false.</summary>
    public BinaryMask Inverted() => new(Width, Height, Data.Select(static v => !v).ToArray());
}
