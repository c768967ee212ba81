using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Synthetic.Live;

namespace StreamAnomaly.Host.Cameras;

/// <summary>
/// Builds camera runners from the plant configuration: source (synthetic scenes plugged into
/// <see cref="CameraSources"/>) -> <see cref="CameraPump"/> -> the frames topic.
/// </summary>
public sealed class CameraRunnerFactory(
    IReadOnlyList<LineOptions> lines, IFrameSink sink, TimeProvider time, HttpClient http, ICameraPumpObserver observer, CameraPumpOptions? pumpOptions = null)
    : ICameraRunnerFactory
{
    private readonly Dictionary<string, (CameraOptions Camera, string Line)> _cameras =
        lines.SelectMany(l => l.Cameras.Select(c => (c, l.Id))).ToDictionary(static p => p.c.Id, static p => (p.c, p.Id));

    /// <summary>Every configured camera's source can be built (files exist, URIs parse): the problems, each naming the camera.</summary>
    public async Task<IReadOnlyList<string>> CheckSourcesAsync()
    {
        var errors = new List<string>();
        foreach (var (camera, _) in _cameras.Values)
        {
            try
            {
                var source = CreateSource(camera);
                await source.DisposeAsync();
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
            {
                errors.Add($"camera '{camera.Id}' source '{camera.Source}': {e.Message}");
            }
        }

        return errors;
    }

    public string? LineOf(string camera) => _cameras.TryGetValue(camera, out var c) ? c.Line : null;

    public ICameraRunner Create(string camera, long firstSequence, Action<CameraState> report)
    {
        var (options, line) = _cameras[camera];
        var source = CreateSource(options);
        var pump = new CameraPump(options, line, source, sink, time, firstSequence, new ReportingObserver(observer, report), pumpOptions);
        return new Runner(pump, source, time);
    }

    private ICameraSource CreateSource(CameraOptions camera) =>
        CameraSources.Create(camera, http, c => SyntheticCameraSource.TryCreate(c, time));

    /// <summary>Anomalies a schedule (<c>anomaly-every</c>) injects in turn: the kinds a frame detector can see.</summary>
    public static IReadOnlyList<string> ScheduledKinds { get; } = ["foreign-object-beside-belt", "dropped-part", "foreign-object-on-belt", "misplaced-part"];

    private sealed class Runner(CameraPump pump, ICameraSource source, TimeProvider time) : ICameraRunner
    {
        public async Task RunAsync(CancellationToken cancellationToken)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var schedule = source is SyntheticCameraSource { Options.AnomalyEvery: { } every } synthetic
                ? ScheduledAnomalies.RunAsync(synthetic, ScheduledKinds, every, time, stop.Token)
                : Task.CompletedTask;
            try
            {
                await pump.RunAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            finally
            {
                await stop.CancelAsync();
                await schedule.ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }

        public string? Inject(string kind)
        {
            if (source is not IAnomalyInjectable injectable)
            {
                return $"{source.Description} cannot show injected anomalies (only synthetic cameras can)";
            }

            try
            {
                injectable.Inject(kind);
                return null;
            }
            catch (ArgumentException e)
            {
                return e.Message;
            }
        }

        public ValueTask DisposeAsync() => source.DisposeAsync();
    }

    /// <summary>Forwards pump events to the metrics observer and state changes to the camera actor.</summary>
    private sealed class ReportingObserver(ICameraPumpObserver inner, Action<CameraState> report) : ICameraPumpObserver
    {
        public void StateChanged(string camera, CameraState state, string? reason)
        {
            inner.StateChanged(camera, state, reason);
            report(state);
        }

        public void FramePublished(FrameMetadata metadata) => inner.FramePublished(metadata);

        public void FrameDropped(string camera, FrameDropReason reason, string detail) => inner.FrameDropped(camera, reason, detail);

        public void SourceFailed(string camera, Exception error, TimeSpan reconnectDelay) => inner.SourceFailed(camera, error, reconnectDelay);
    }
}
