namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// Tuning of a <see cref="CameraPump"/> (the camera's own rate, size and ROI are in
/// <see cref="StreamAnomaly.Core.Streaming.CameraOptions"/>).
/// </summary>
public sealed record CameraPumpOptions
{
    /// <summary>No frame from a connected source for this long reports Stalled; &gt; 0. Default 5 s.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First reconnect delay after a source failure; &gt; 0. Default 0.5 s.</summary>
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Longest reconnect delay (the exponential back-off is capped here); &gt;= base. Default 30 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Randomise reconnect delays (Polly's decorrelated jitter) so many cameras do not reconnect in step. Default true.</summary>
    public bool ReconnectJitter { get; init; } = true;

    /// <summary>The default <see cref="JpegQuality"/>.</summary>
    public const int DefaultJpegQuality = 85;

    /// <summary>JPEG quality of published frames, 1..100. Default <see cref="DefaultJpegQuality"/>.</summary>
    public int JpegQuality { get; init; } = DefaultJpegQuality;

    /// <summary>The defaults.</summary>
    public static CameraPumpOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (StallTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(StallTimeout)} must be > 0, got {StallTimeout}");
        }

        if (ReconnectBaseDelay <= TimeSpan.Zero || ReconnectBaseDelay > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"{nameof(ReconnectBaseDelay)} must be in (0, 1 day], got {ReconnectBaseDelay}");
        }

        if (ReconnectMaxDelay < ReconnectBaseDelay)
        {
            throw new ArgumentException($"{nameof(ReconnectMaxDelay)} ({ReconnectMaxDelay}) must be >= {nameof(ReconnectBaseDelay)} ({ReconnectBaseDelay})");
        }

        if (JpegQuality is < 1 or > 100)
        {
            throw new ArgumentException($"{nameof(JpegQuality)} must be in 1..100, got {JpegQuality}");
        }
    }
}

/// <summary>Why a pump did not publish a frame it received.</summary>
public enum FrameDropReason
{
    /// <summary>A live frame came sooner than 1/Fps after the last published one.</summary>
    RateLimited,

    /// <summary>The frame could not be prepared (ROI outside the frame, OpenCV failure).</summary>
    FrameError,

    /// <summary>The sink threw; the frame's sequence number is used up all the same.</summary>
    SinkError,
}

/// <summary>Counts since a pump was created; all &gt;= 0 and only growing.</summary>
/// <param name="Published">Frames the sink acknowledged.</param>
/// <param name="SourceErrors">Times the source threw (each followed by a reconnect).</param>
/// <param name="SkippedByRate">Live frames dropped by frame-rate control.</param>
/// <param name="FrameErrors">Frames dropped because they could not be prepared (bad ROI for their size).</param>
/// <param name="SinkErrors">Frames the sink failed to publish.</param>
public readonly record struct CameraPumpCounters(long Published, long SourceErrors, long SkippedByRate, long FrameErrors, long SinkErrors);

/// <summary>
/// What a <see cref="CameraPump"/> reports. Called synchronously from the pump's task or its stall
/// timer (possibly another thread, never two calls at once for one pump): implementations must
/// be quick, must not block, and must not throw. Every method has a do-nothing default.
/// </summary>
public interface ICameraPumpObserver
{
    /// <summary>The camera's state changed (reported on change only); <paramref name="reason"/> says why, when known.</summary>
    void StateChanged(string camera, Core.Streaming.CameraState state, string? reason)
    {
    }

    /// <summary>The sink acknowledged a frame.</summary>
    void FramePublished(Core.Streaming.FrameMetadata metadata)
    {
    }

    /// <summary>A received frame was not published.</summary>
    void FrameDropped(string camera, FrameDropReason reason, string detail)
    {
    }

    /// <summary>The source failed; the pump reads it again after <paramref name="reconnectDelay"/>.</summary>
    void SourceFailed(string camera, Exception error, TimeSpan reconnectDelay)
    {
    }
}
