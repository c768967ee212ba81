using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Cluster;

/// <summary>
/// One running camera (source -> rate control -> crop/resize -> JPEG -> frames topic), built by
/// the host from configuration. The actor owns its lifetime.
/// </summary>
public interface ICameraRunner : IAsyncDisposable
{
    /// <summary>Runs until cancelled or a finite source ends; reconnects by itself.</summary>
    Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Injects an anomaly; returns null when accepted, else why not (e.g. not a synthetic camera).</summary>
    string? Inject(string kind);
}

/// <summary>Builds camera runners; known cameras only.</summary>
public interface ICameraRunnerFactory
{
    /// <summary>Line of a configured camera, or null when the camera is unknown.</summary>
    string? LineOf(string camera);

    /// <summary>
    /// Builds the runner of <paramref name="camera"/>; its frames are numbered from
    /// <paramref name="firstSequence"/>; state changes are reported through <paramref name="report"/>
    /// (from any thread).
    /// </summary>
    ICameraRunner Create(string camera, long firstSequence, Action<CameraState> report);
}

/// <summary>
/// What the actors tell the outside world (metrics, the demo's console view, the dashboard).
/// Called on actor threads: implementations must be fast and thread-safe.
/// </summary>
public interface IPipelineObserver
{
    void CameraStateChanged(string camera, string line, CameraState state);

    void BatchScored(int frames, TimeSpan took);

    void FramesDropped(string reason, int count);

    void PartialsResent(int count);

    void FrameDecided(FrameDecided decided);

    /// <summary><paramref name="count"/> frame numbers of <paramref name="camera"/> were skipped (see <see cref="CameraSequences"/>).</summary>
    void FramesLost(string camera, long count);

    void AlarmChanged(AlarmEvent alarm);

    /// <summary>A detector that tracks the machine cycle saw <paramref name="camera"/> complete one.</summary>
    void CycleCompleted(string camera, string line, CycleRecord cycle);
}

/// <summary>Observer that ignores everything.</summary>
public sealed class NullPipelineObserver : IPipelineObserver
{
    public static NullPipelineObserver Instance { get; } = new();

    public void CameraStateChanged(string camera, string line, CameraState state) { }

    public void BatchScored(int frames, TimeSpan took) { }

    public void FramesDropped(string reason, int count) { }

    public void PartialsResent(int count) { }

    public void FrameDecided(FrameDecided decided) { }

    public void FramesLost(string camera, long count) { }

    public void AlarmChanged(AlarmEvent alarm) { }

    public void CycleCompleted(string camera, string line, CycleRecord cycle) { }
}

/// <summary>Reasons a worker or an aggregator drops a frame on purpose (metrics label values).</summary>
public static class DropReasons
{
    /// <summary>A live camera fell behind; an older frame made room for a newer one.</summary>
    public const string Stale = "stale";

    /// <summary>The detectors failed on the frame's batch.</summary>
    public const string InferenceError = "inference-error";

    /// <summary>
    /// The line aggregator refused the frame's sequence number: its camera cannot have produced it
    /// (<see cref="CameraSequences"/>). Counted once per partial result (one per detector).
    /// </summary>
    public const string ImplausibleSequence = "implausible-sequence";

    /// <summary>Every reason, for metrics labels.</summary>
    public static IReadOnlyList<string> All { get; } = [Stale, InferenceError, ImplausibleSequence];
}
