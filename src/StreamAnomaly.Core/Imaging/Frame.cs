namespace StreamAnomaly.Core.Imaging;

/// <summary>
/// One decoded video frame: 8-bit BGR pixels, interleaved, row-major, no padding
/// (<c>Bgr.Length == Width * Height * 3</c>). BGR is OpenCV's native order, so frames move
/// between OpenCV and the models without a copy-and-swap.
/// </summary>
public sealed record Frame
{
    public Frame(int width, int height, byte[] bgr)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(bgr);
        if (bgr.Length != checked(width * height * 3))
        {
            throw new ArgumentException(
                $"a {width}x{height} BGR frame needs {width * height * 3} bytes, got {bgr.Length}", nameof(bgr));
        }

        Width = width;
        Height = height;
        Bgr = bgr;
    }

    /// <summary>Width in pixels (&gt; 0).</summary>
    public int Width { get; }

    /// <summary>Height in pixels (&gt; 0).</summary>
    public int Height { get; }

    /// <summary>Pixels as B, G, R bytes, row by row.</summary>
    public byte[] Bgr { get; }
}
