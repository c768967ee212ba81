using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// Builds the <see cref="ICameraSource"/> a <see cref="CameraOptions.Source"/> URI names. Schemes
/// handled here: <c>file:PATH[?loop=true|false]</c> (<see cref="VideoFileSource"/>),
/// <c>folder:PATH[?loop=true|false]</c> (<see cref="ImageFolderSource"/>),
/// <c>mjpeg:http(s)://...</c> (<see cref="MjpegHttpSource"/>), <c>ffmpeg:URL</c>
/// (<see cref="FfmpegSource"/>, scaled by ffmpeg to the camera's published width x height; a
/// region of interest is not supported with it because ffmpeg's output is already scaled).
/// Other schemes (<c>synthetic:SEED</c>: Ingest does not reference the scene generator) are
/// plugged in by the composition root through <c>extraSchemes</c>. The scheme is
/// case-insensitive; loop defaults to false.
/// </summary>
public static class CameraSources
{
    /// <summary>Schemes this class understands itself.</summary>
    public static IReadOnlyList<string> BuiltInSchemes { get; } = ["file", "folder", "mjpeg", "ffmpeg"];

    /// <summary>
    /// Whether a source URI names a live source (the newest frame wins when the pipeline falls
    /// behind), decided from the scheme alone so nodes that never open the source (workers) agree
    /// with <see cref="ICameraSource.IsLive"/>: files and folders are not live, everything else is.
    /// </summary>
    public static bool IsLive(string source) =>
        !(source.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || source.StartsWith("folder:", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The source for <paramref name="camera"/>. <paramref name="extraSchemes"/>, when given, is asked
    /// first and wins when it returns a source (return null to leave a URI to the built-in schemes).
    /// An unknown scheme or a malformed URI is an <see cref="ArgumentException"/> naming the camera
    /// id and the value.
    /// </summary>
    /// <param name="camera">The camera's options.</param>
    /// <param name="http">Client for <c>mjpeg:</c> sources (not disposed by them).</param>
    /// <param name="extraSchemes">Optional hook for schemes this assembly cannot build.</param>
    public static ICameraSource Create(CameraOptions camera, HttpClient http, Func<CameraOptions, ICameraSource?>? extraSchemes = null)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(http);
        if (extraSchemes?.Invoke(camera) is { } extra)
        {
            return extra;
        }

        var source = camera.Source ?? string.Empty;
        var colon = source.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw Bad(camera, "expected SCHEME:VALUE with a scheme among " + string.Join(", ", BuiltInSchemes));
        }

        var scheme = source[..colon].ToLowerInvariant();
        var rest = source[(colon + 1)..];
        switch (scheme)
        {
            case "file":
            {
                var (path, loop) = PathAndLoop(camera, rest);
                return new VideoFileSource(path, loop);
            }

            case "folder":
            {
                var (path, loop) = PathAndLoop(camera, rest);
                return new ImageFolderSource(path, loop);
            }

            case "mjpeg":
                if (!Uri.TryCreate(rest, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    throw Bad(camera, "mjpeg: needs an absolute http:// or https:// address");
                }

                return new MjpegHttpSource(uri, http);

            case "ffmpeg":
                if (string.IsNullOrWhiteSpace(rest))
                {
                    throw Bad(camera, "ffmpeg: needs an input URL");
                }

                if (camera.Roi is not null)
                {
                    throw Bad(camera, "a region of interest is not supported for ffmpeg: sources (ffmpeg already scales to the published size)");
                }

                return new FfmpegSource(rest, camera.Width, camera.Height);

            default:
                throw Bad(camera, $"unknown scheme '{scheme}' (known: {string.Join(", ", BuiltInSchemes)}, plus those the host adds)");
        }
    }

    private static (string Path, bool Loop) PathAndLoop(CameraOptions camera, string rest)
    {
        var question = rest.LastIndexOf('?');
        var path = question < 0 ? rest : rest[..question];
        var loop = false;
        if (question >= 0)
        {
            foreach (var pair in rest[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = eq < 0 ? pair : pair[..eq];
                var value = eq < 0 ? string.Empty : pair[(eq + 1)..];
                if (!key.Equals("loop", StringComparison.OrdinalIgnoreCase) || !bool.TryParse(value, out loop))
                {
                    throw Bad(camera, $"unsupported query '{pair}' (only loop=true or loop=false)");
                }
            }
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            throw Bad(camera, "the path is empty");
        }

        return (path, loop);
    }

    private static ArgumentException Bad(CameraOptions camera, string problem) =>
        new($"camera '{camera.Id}': invalid source '{camera.Source}': {problem}", nameof(camera));
}
