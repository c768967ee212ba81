using Confluent.Kafka;
using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>A frames-topic message the feed refused: <see cref="Reason"/> is one of <see cref="DeadLetterReasons"/>, the message a one-line detail.</summary>
public sealed class FrameRejectedException(string reason, string detail) : Exception(detail)
{
    /// <summary>The dead-letter reason (the <c>reason</c> header).</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// Turns a frames-topic message (headers and value) into a frame, or refuses it with a
/// <see cref="FrameRejectedException"/> and never any other exception. Checks, cheapest first,
/// and nothing decoded before the image's own header passed:
/// headers (<see cref="FrameHeaders.TryRead"/>); camera known and on its configured line; sequence
/// plausible for its capture time (<see cref="SequenceRange.CheckClock"/>); value present and at most
/// <see cref="KafkaOptions.MaxMessageBytes"/>; a complete JPEG (<see cref="JpegFraming"/>); the JPEG
/// frame header's size within <see cref="KafkaOptions.MaxImage"/> and equal to the headers'
/// size; then the decode. Thread-safe.
/// </summary>
/// <param name="options">Validated options.</param>
/// <param name="cameraLines">The plant's cameras: camera id -> line id.</param>
/// <param name="time">The clock the capture times are checked against.</param>
public sealed class FrameMessageDecoder(KafkaOptions options, IReadOnlyDictionary<string, string> cameraLines, TimeProvider time)
{
    /// <summary>The frame's metadata and pixels; throws <see cref="FrameRejectedException"/> for anything the feed must dead-letter.</summary>
    public (FrameMetadata Metadata, Frame Image) Decode(Headers? headers, byte[]? value)
    {
        if (!FrameHeaders.TryRead(headers, out var metadata, out var reason, out var detail))
        {
            throw new FrameRejectedException(reason, detail);
        }

        if (!cameraLines.TryGetValue(metadata.Camera, out var line))
        {
            throw new FrameRejectedException(DeadLetterReasons.UnknownCamera, $"camera '{metadata.Camera}' is not configured in this plant");
        }

        if (!string.Equals(line, metadata.Line, StringComparison.Ordinal))
        {
            throw new FrameRejectedException(DeadLetterReasons.UnknownLine, $"camera '{metadata.Camera}' is configured on line '{line}', the message says line '{metadata.Line}'");
        }

        if (SequenceRange.CheckClock(metadata.Sequence, metadata.CaptureTime, time.GetUtcNow()) is { } implausible)
        {
            throw new FrameRejectedException(DeadLetterReasons.ImplausibleSequence, implausible);
        }

        if (value is null || value.Length == 0)
        {
            throw new FrameRejectedException(DeadLetterReasons.CorruptImage, "the message has no value (0 image bytes)");
        }

        if (value.Length > options.MaxMessageBytes)
        {
            throw new FrameRejectedException(DeadLetterReasons.Oversize, $"the image is {value.Length} bytes, more than Kafka:MaxMessageBytes = {options.MaxMessageBytes}");
        }

        if (!JpegFraming.IsComplete(value, out var problem))
        {
            throw new FrameRejectedException(DeadLetterReasons.CorruptImage, problem);
        }

        if (!ImageHeader.TryRead(value, out var header, out problem))
        {
            throw new FrameRejectedException(DeadLetterReasons.CorruptImage, problem);
        }

        if (options.MaxImage.Check(header.Width, header.Height) is { } tooLarge)
        {
            throw new FrameRejectedException(DeadLetterReasons.ImageTooLarge, $"{tooLarge} (Kafka:MaxImage)");
        }

        if (header.Width != metadata.Width || header.Height != metadata.Height)
        {
            throw new FrameRejectedException(DeadLetterReasons.WrongDimensions, $"the image is {header.Width}x{header.Height}, the headers say {metadata.Width}x{metadata.Height}");
        }

        Frame image;
        try
        {
            image = ImageCodec.DecodeFrame(value, options.MaxImage);
        }
        catch (Exception ex) when (ex is InvalidDataException or OpenCVException or ArgumentException)
        {
            throw new FrameRejectedException(DeadLetterReasons.CorruptImage, ex.Message);
        }

        return (metadata, image);
    }
}
