using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// The Kafka header layout of a frame message (schema version 1): each <see cref="FrameMetadata"/>
/// field is one UTF-8 header; numbers are invariant-culture decimal integers, the capture time is
/// Unix milliseconds (UTC; sub-millisecond parts and the offset are not kept). When a header
/// appears twice, the last one counts. Dead-letter messages add <see cref="Reason"/> and
/// <see cref="Error"/>.
/// </summary>
public static class FrameHeaders
{
    public const string Camera = "camera";
    public const string Line = "line";
    public const string Sequence = "sequence";
    public const string CaptureTime = "capture-time";
    public const string Width = "width";
    public const string Height = "height";
    public const string Codec = "codec";
    public const string SchemaVersion = "schema-version";

    /// <summary>Dead-letter header: one of <see cref="DeadLetterReasons"/>.</summary>
    public const string Reason = "reason";

    /// <summary>Dead-letter header: a one-line human-readable detail (at most <see cref="MaxErrorLength"/> characters).</summary>
    public const string Error = "error";

    /// <summary>Longest <see cref="Error"/> header value in characters.</summary>
    public const int MaxErrorLength = 1000;

    /// <summary>Every header a frame message carries, in the order <see cref="Write"/> adds them.</summary>
    public static IReadOnlyList<string> All { get; } = [SchemaVersion, Camera, Line, Sequence, CaptureTime, Width, Height, Codec];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The headers of a frame. Throws <see cref="ArgumentException"/> for metadata that
    /// <see cref="TryRead"/> would refuse (invalid ids, negative sequence, non-positive size,
    /// another codec or schema), so a producer never publishes what the feed dead-letters.
    /// </summary>
    public static Headers Write(FrameMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!Ids.IsValid(metadata.Camera) || !Ids.IsValid(metadata.Line))
        {
            throw new ArgumentException($"camera '{metadata.Camera}' and line '{metadata.Line}' must be valid ids (letters, digits, '-', '_', '.'; 1..{Ids.MaxLength})", nameof(metadata));
        }

        if (metadata.Sequence < 0 || metadata.Width <= 0 || metadata.Height <= 0)
        {
            throw new ArgumentException($"sequence must be >= 0 and size > 0, got sequence {metadata.Sequence}, {metadata.Width}x{metadata.Height}", nameof(metadata));
        }

        if (metadata.Codec != FrameMetadata.Jpeg || metadata.SchemaVersion != FrameMetadata.CurrentSchemaVersion)
        {
            throw new ArgumentException($"only codec '{FrameMetadata.Jpeg}' and schema {FrameMetadata.CurrentSchemaVersion} are written, got '{metadata.Codec}' and {metadata.SchemaVersion}", nameof(metadata));
        }

        var headers = new Headers();
        Add(headers, SchemaVersion, metadata.SchemaVersion.ToString(CultureInfo.InvariantCulture));
        Add(headers, Camera, metadata.Camera);
        Add(headers, Line, metadata.Line);
        Add(headers, Sequence, metadata.Sequence.ToString(CultureInfo.InvariantCulture));
        Add(headers, CaptureTime, metadata.CaptureTime.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Add(headers, Width, metadata.Width.ToString(CultureInfo.InvariantCulture));
        Add(headers, Height, metadata.Height.ToString(CultureInfo.InvariantCulture));
        Add(headers, Codec, metadata.Codec);
        return headers;
    }

    /// <summary>
    /// Reads frame metadata. On failure <paramref name="reason"/> is
    /// <see cref="DeadLetterReasons.MissingHeader"/>, <see cref="DeadLetterReasons.MalformedHeader"/>
    /// or <see cref="DeadLetterReasons.UnsupportedSchema"/> (another schema version or codec) and
    /// <paramref name="detail"/> names the header and the offending value. The schema version is
    /// checked first: a message of another schema may lay out its other headers differently.
    /// </summary>
    public static bool TryRead(Headers? headers, out FrameMetadata metadata, out string reason, out string detail)
    {
        metadata = null!;
        reason = string.Empty;
        detail = string.Empty;

        if (!TryText(headers, SchemaVersion, ref reason, ref detail, out var schemaText))
        {
            return false;
        }

        if (!int.TryParse(schemaText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var schema))
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{SchemaVersion}' is not an integer: '{Shorten(schemaText)}'", ref reason, ref detail);
        }

        if (schema != FrameMetadata.CurrentSchemaVersion)
        {
            return Fail(DeadLetterReasons.UnsupportedSchema, $"schema version {schema} is not supported (this build reads {FrameMetadata.CurrentSchemaVersion})", ref reason, ref detail);
        }

        if (!TryText(headers, Camera, ref reason, ref detail, out var camera)
            || !TryText(headers, Line, ref reason, ref detail, out var line)
            || !TryText(headers, Sequence, ref reason, ref detail, out var sequenceText)
            || !TryText(headers, CaptureTime, ref reason, ref detail, out var timeText)
            || !TryText(headers, Width, ref reason, ref detail, out var widthText)
            || !TryText(headers, Height, ref reason, ref detail, out var heightText)
            || !TryText(headers, Codec, ref reason, ref detail, out var codec))
        {
            return false;
        }

        if (!Ids.IsValid(camera))
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{Camera}' is not a valid id: '{Shorten(camera)}'", ref reason, ref detail);
        }

        if (!Ids.IsValid(line))
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{Line}' is not a valid id: '{Shorten(line)}'", ref reason, ref detail);
        }

        if (!long.TryParse(sequenceText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{Sequence}' is not an integer >= 0: '{Shorten(sequenceText)}'", ref reason, ref detail);
        }

        if (!long.TryParse(timeText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var unixMs)
            || unixMs < MinUnixMs || unixMs > MaxUnixMs)
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{CaptureTime}' is not Unix milliseconds in years 1..9999: '{Shorten(timeText)}'", ref reason, ref detail);
        }

        if (!int.TryParse(widthText, NumberStyles.None, CultureInfo.InvariantCulture, out var width) || width <= 0)
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{Width}' is not an integer > 0: '{Shorten(widthText)}'", ref reason, ref detail);
        }

        if (!int.TryParse(heightText, NumberStyles.None, CultureInfo.InvariantCulture, out var height) || height <= 0)
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{Height}' is not an integer > 0: '{Shorten(heightText)}'", ref reason, ref detail);
        }

        if (codec != FrameMetadata.Jpeg)
        {
            return Fail(DeadLetterReasons.UnsupportedSchema, $"codec '{Shorten(codec)}' is not supported (only '{FrameMetadata.Jpeg}')", ref reason, ref detail);
        }

        metadata = new FrameMetadata(camera, line, sequence, DateTimeOffset.FromUnixTimeMilliseconds(unixMs), width, height, codec, schema);
        return true;
    }

    /// <summary>The UTF-8 text of the last header named <paramref name="name"/>, or null when absent or not UTF-8.</summary>
    public static string? GetText(Headers? headers, string name)
    {
        if (headers is null || !headers.TryGetLastBytes(name, out var bytes) || bytes is null)
        {
            return null;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Adds (appends) a UTF-8 header.</summary>
    public static void Add(Headers headers, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(headers);
        headers.Add(name, StrictUtf8.GetBytes(value));
    }

    // DateTimeOffset.FromUnixTimeMilliseconds accepts exactly this range.
    private const long MinUnixMs = -62_135_596_800_000;
    private const long MaxUnixMs = 253_402_300_799_999;

    private static bool TryText(Headers? headers, string name, ref string reason, ref string detail, out string text)
    {
        text = string.Empty;
        if (headers is null || !headers.TryGetLastBytes(name, out var bytes))
        {
            return Fail(DeadLetterReasons.MissingHeader, $"header '{name}' is missing", ref reason, ref detail);
        }

        if (bytes is null || bytes.Length == 0)
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{name}' is empty", ref reason, ref detail);
        }

        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return Fail(DeadLetterReasons.MalformedHeader, $"header '{name}' is not UTF-8 ({bytes.Length} bytes)", ref reason, ref detail);
        }
    }

    private static bool Fail(string why, string message, ref string reason, ref string detail)
    {
        reason = why;
        detail = message;
        return false;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "...");
}
