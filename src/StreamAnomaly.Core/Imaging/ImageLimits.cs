using System.Globalization;

namespace StreamAnomaly.Core.Imaging;

/// <summary>
/// The largest image this project decodes. Every decoding path reads the image's header first
/// (<see cref="ImageHeader"/>, or the container's declared size for videos) and refuses an image
/// above these limits before a pixel is decoded: a 125-byte JPEG can declare 30000x30000 pixels,
/// 2.7 GB once decoded. The plant's value is the setting <c>Kafka:MaxImage</c>; commands that read
/// clip files and camera sources use <see cref="Default"/>.
/// </summary>
/// <remarks>Invariants (<see cref="Validate"/>): <see cref="MaxSide"/> in 16..65535, <see cref="MaxPixels"/> in 256..500,000,000 (a BGR frame's byte count must fit an <see cref="int"/>).</remarks>
public sealed record ImageLimits
{
    /// <summary>Highest <see cref="MaxPixels"/> allowed: 3 bytes per pixel must stay below 2^31.</summary>
    public const long HighestMaxPixels = 500_000_000;

    /// <summary>Defaults: 8192 px per side and 40,000,000 pixels (e.g. 8192x4883, or 7680x4320 "8K").</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Longest side in pixels an image may declare (default 8192).</summary>
    public int MaxSide { get; init; } = 8192;

    /// <summary>Most pixels (width x height) an image may declare (default 40,000,000).</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>
    /// Largest encoded file or message worth reading: 8 bytes per allowed pixel (a 16-bit RGBA PNG
    /// stored without compression) plus 1 MiB of metadata. A larger file cannot hold an image
    /// within the limits, so it is refused before it is read into memory.
    /// </summary>
    public long MaxEncodedBytes => (MaxPixels * 8) + (1024 * 1024);

    /// <summary>Null when a <paramref name="width"/> x <paramref name="height"/> image is within the limits, else a one-line reason.</summary>
    public string? Check(int width, int height)
    {
        if (width > MaxSide || height > MaxSide)
        {
            return $"the image declares {width}x{height} pixels, above the limit of {MaxSide} px per side";
        }

        var pixels = (long)width * height;
        return pixels > MaxPixels
            ? string.Create(CultureInfo.InvariantCulture, $"the image declares {width}x{height} = {pixels:N0} pixels, above the limit of {MaxPixels:N0}")
            : null;
    }

    /// <summary>Problems, each naming <paramref name="key"/> (the setting, e.g. <c>Kafka:MaxImage</c>); empty when valid.</summary>
    public IReadOnlyList<string> Validate(string key)
    {
        var errors = new List<string>();
        if (MaxSide is < 16 or > 65535)
        {
            errors.Add($"{key}:{nameof(MaxSide)} must be in 16..65535 pixels, got {MaxSide}");
        }

        if (MaxPixels is < 256 or > HighestMaxPixels)
        {
            errors.Add($"{key}:{nameof(MaxPixels)} must be in 256..{HighestMaxPixels} pixels, got {MaxPixels}");
        }

        return errors;
    }
}
