using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// Opaque handle a feed gives with each frame; passing it back to <see cref="IFrameFeed.Acknowledge"/>
/// says the frame is done with (scored and accepted by its aggregator, or dropped on purpose).
/// </summary>
/// <param name="Partition">Partition the frame came from.</param>
/// <param name="Offset">Offset of the frame in that partition.</param>
public readonly record struct FrameReceipt(int Partition, long Offset);

/// <summary>A valid, decoded frame handed to a worker.</summary>
public sealed record IncomingFrame(FrameMetadata Metadata, Frame Image, FrameReceipt Receipt);

/// <summary>
/// At-least-once frame feed for workers (the Kafka consumer group). Messages that fail
/// validation (corrupt image, wrong size, image above the limit, bad or missing headers, unknown
/// camera or line, implausible sequence number, oversize) never reach the worker: the feed dead-letters them with a reason and acknowledges
/// them itself. A frame's position is committed only after it and every earlier frame of its
/// partition were acknowledged; unacknowledged frames are redelivered after a crash or rebalance.
/// </summary>
public interface IFrameFeed : IAsyncDisposable
{
    /// <summary>
    /// Consumes until cancelled, calling <paramref name="onFrame"/> for each valid frame in
    /// partition order. Pauses consumption while <see cref="InFlight"/> is at its configured bound.
    /// Runs on the caller's task; <paramref name="onFrame"/> must not block.
    /// </summary>
    Task RunAsync(Action<IncomingFrame> onFrame, CancellationToken cancellationToken);

    /// <summary>Marks a frame done. Thread-safe; unknown or repeated receipts are ignored.</summary>
    void Acknowledge(FrameReceipt receipt);

    /// <summary>Frames handed out and not yet acknowledged.</summary>
    int InFlight { get; }
}

/// <summary>Why a message went to the dead-letter topic (the <c>reason</c> header's value).</summary>
public static class DeadLetterReasons
{
    public const string MissingHeader = "missing-header";
    public const string MalformedHeader = "malformed-header";
    public const string UnsupportedSchema = "unsupported-schema";
    public const string UnknownCamera = "unknown-camera";
    public const string UnknownLine = "unknown-line";
    public const string Oversize = "oversize";
    public const string CorruptImage = "corrupt-image";
    public const string WrongDimensions = "wrong-dimensions";

    /// <summary>The image's own header declares more pixels than the configured limit (refused before decoding).</summary>
    public const string ImageTooLarge = "image-too-large";

    /// <summary>The sequence number cannot have been produced by the camera by its capture time (<see cref="SequenceRange.CheckClock"/>).</summary>
    public const string ImplausibleSequence = "implausible-sequence";

    /// <summary>The feed's own checks failed unexpectedly on the message (the exception is in the error header).</summary>
    public const string ValidationError = "validation-error";

    /// <summary>Every reason, for metrics labels and tests.</summary>
    public static IReadOnlyList<string> All { get; } =
        [MissingHeader, MalformedHeader, UnsupportedSchema, UnknownCamera, UnknownLine, Oversize, CorruptImage, WrongDimensions, ImageTooLarge, ImplausibleSequence, ValidationError];
}

/// <summary>Where aggregators publish alarm lifecycle events (the Kafka <c>alarms</c> topic).</summary>
public interface IAlarmSink
{
    /// <summary>Short stable name ("kafka", "mqtt"): a line's journal records per sink which events it published.</summary>
    string Name { get; }

    /// <summary>
    /// Publishes one event so that a line's events are read back in the order they were published
    /// (Kafka: keyed by line); consumers deduplicate repeats by <see cref="AlarmEvent.IdempotencyKey"/>.
    /// </summary>
    Task PublishAsync(AlarmEvent alarm, CancellationToken cancellationToken);
}
