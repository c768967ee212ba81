namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// One camera as configured. <paramref name="Source"/> is a URI whose scheme picks the source:
/// <c>synthetic:SEED</c> (live robot cell), <c>file:PATH[?loop=true]</c> (video file),
/// <c>folder:PATH[?loop=true]</c> (image folder in name order), <c>mjpeg:http://...</c>
/// (HTTP multipart MJPEG), <c>ffmpeg:URL</c> (anything ffmpeg reads: rtsp://, http://, HLS).
/// </summary>
/// <param name="Id">Camera id (<see cref="Ids.IsValid"/>).</param>
/// <param name="Source">Source URI, see above.</param>
/// <param name="Fps">Frames per second published (the source is sampled down to it), in (0, <see cref="MaxFps"/>].</param>
/// <param name="Width">Published width in pixels after crop and resize, &gt; 0.</param>
/// <param name="Height">Published height in pixels after crop and resize, &gt; 0.</param>
/// <param name="Roi">Optional crop applied before the resize, in source pixels.</param>
public sealed record CameraOptions(string Id, string Source, double Fps = 5, int Width = 128, int Height = 128, RegionOfInterest? Roi = null)
{
    /// <summary>Highest frame rate a camera may be configured with (frames per second).</summary>
    public const double MaxFps = 120;

    /// <summary>The model bundles that score this camera; null: its line's.</summary>
    public string[]? Bundles { get; init; }
}

/// <summary>A rectangular crop in source pixels: x, y of the top-left corner, width and height (all &gt;= 0, size &gt; 0).</summary>
public sealed record RegionOfInterest(int X, int Y, int Width, int Height);

/// <summary>A production line and the cameras that watch it.</summary>
public sealed record LineOptions(string Id, CameraOptions[] Cameras)
{
    /// <summary>The model bundles that score this line's cameras (a camera may name its own); null: the plant's default.</summary>
    public string[]? Bundles { get; init; }
}
