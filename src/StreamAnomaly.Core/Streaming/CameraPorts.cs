using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Streaming;

/// <summary>Health of a camera as its ingest node sees it.</summary>
public enum CameraState
{
    /// <summary>Not yet connected.</summary>
    Starting,

    /// <summary>Frames arrive.</summary>
    Online,

    /// <summary>Connected, but no frame for longer than the stall timeout.</summary>
    Stalled,

    /// <summary>Disconnected; reconnecting with back-off.</summary>
    Offline,

    /// <summary>A finite source (a file played once) has no more frames.</summary>
    Ended,
}

/// <summary>
/// A camera's raw frame stream: a synthetic scene, a video file, an image folder, an HTTP MJPEG
/// stream, anything ffmpeg reads. <see cref="ReadAsync"/> connects and yields frames as they come;
/// it throws when the connection fails or drops (the caller reconnects) and ends normally only
/// when a finite source is exhausted. A source may be read again after it threw or ended.
/// </summary>
public interface ICameraSource : IAsyncDisposable
{
    /// <summary>Human-readable description for logs, e.g. "mjpeg http://10.0.0.7/cam.mjpg".</summary>
    string Description { get; }

    /// <summary>True for live sources: when the pipeline falls behind, the newest frame wins.</summary>
    bool IsLive { get; }

    /// <summary>Connects and yields decoded BGR frames until cancelled, exhausted or failed.</summary>
    IAsyncEnumerable<Frame> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>A source that can be told to show an anomaly (the synthetic robot cell).</summary>
public interface IAnomalyInjectable
{
    /// <summary>Anomaly kinds this source can show, e.g. "foreign-object-beside-belt".</summary>
    IReadOnlyList<string> AnomalyKinds { get; }

    /// <summary>Shows anomaly <paramref name="kind"/> from the next machine cycle on, for one cycle.</summary>
    /// <exception cref="ArgumentException">The kind is not one of <see cref="AnomalyKinds"/>.</exception>
    void Inject(string kind);
}

/// <summary>Where an ingest node publishes encoded frames (the Kafka <c>frames</c> topic).</summary>
public interface IFrameSink
{
    /// <summary>Publishes one encoded frame; completes when the broker acknowledged it.</summary>
    Task PublishAsync(FrameMetadata metadata, ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken);
}
