namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// What travels with every frame on the <c>frames</c> topic (as Kafka headers; the value is the
/// encoded image). Camera and line ids are non-empty, printable, without whitespace.
/// </summary>
/// <param name="Camera">Camera id, unique in the plant; also the Kafka message key.</param>
/// <param name="Line">Production line the camera watches.</param>
/// <param name="Sequence">Per-camera frame number, strictly increasing while the camera runs, &gt;= 0.</param>
/// <param name="CaptureTime">When the frame was taken (from the injected clock of the ingest node).</param>
/// <param name="Width">Encoded image width in pixels, &gt; 0.</param>
/// <param name="Height">Encoded image height in pixels, &gt; 0.</param>
/// <param name="Codec">Image codec of the value; only <see cref="Jpeg"/> is produced today.</param>
/// <param name="SchemaVersion">Version of this header layout; readers refuse versions they do not know.</param>
public sealed record FrameMetadata(
    string Camera,
    string Line,
    long Sequence,
    DateTimeOffset CaptureTime,
    int Width,
    int Height,
    string Codec = FrameMetadata.Jpeg,
    int SchemaVersion = FrameMetadata.CurrentSchemaVersion)
{
    /// <summary>The JPEG codec name.</summary>
    public const string Jpeg = "jpeg";

    /// <summary>The header layout this build writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The (camera, sequence) identity aggregators deduplicate by.</summary>
    public FrameKey Key => new(Camera, Sequence);
}

/// <summary>Identity of one frame in the plant: camera id and per-camera sequence number.</summary>
public readonly record struct FrameKey(string Camera, long Sequence)
{
    public override string ToString() => $"{Camera}#{Sequence}";
}

/// <summary>Ids are non-empty, at most 64 characters of letters, digits, '-', '_' and '.'.</summary>
public static class Ids
{
    /// <summary>Longest accepted id.</summary>
    public const int MaxLength = 64;

    /// <summary>True when <paramref name="id"/> is a valid camera or line id.</summary>
    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
