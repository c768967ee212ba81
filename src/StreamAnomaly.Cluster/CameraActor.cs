using Akka.Actor;
using Akka.Event;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// The sharded entity of one camera (role ingest): owns the camera's runner (source to Kafka),
/// reports its state and takes anomaly-injection commands. When its node goes, sharding starts
/// it on another ingest node; frame numbers then continue from a clock-derived base, so a
/// restarted camera never reuses a sequence number the aggregators have seen.
/// </summary>
public sealed class CameraActor : ReceiveActor
{
    private readonly string _camera;
    private readonly string _line;
    private readonly ICameraRunnerFactory _factory;
    private readonly IPipelineObserver _observer;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ICameraRunner? _runner;

    public CameraActor(string camera, ICameraRunnerFactory factory, IPipelineObserver observer, TimeProvider time)
    {
        _camera = camera;
        _line = factory.LineOf(camera) ?? throw new ArgumentException($"camera '{camera}' is not configured", nameof(camera));
        _factory = factory;
        _observer = observer;
        _time = time;

        Receive<EnsureCamera>(_ => { });
        Receive<InjectAnomaly>(inject =>
        {
            var error = _runner is null ? "camera is not running" : _runner.Inject(inject.Kind);
            if (error is null)
            {
                _log.Info("anomaly {0} injected on camera {1}", inject.Kind, _camera);
            }

            Sender.Tell(new AnomalyInjection(_camera, inject.Kind, _time.GetUtcNow(), error));
        });
        Receive<StateReported>(reported =>
        {
            State = reported.State;
            _observer.CameraStateChanged(_camera, _line, reported.State);
        });
        Receive<RunnerStopped>(stopped =>
        {
            if (stopped.Error is not null && !_stop.IsCancellationRequested)
            {
                _log.Error(stopped.Error, "camera {0} stopped", _camera);
                throw new InvalidOperationException($"camera {_camera} stopped", stopped.Error);
            }
        });
    }

    /// <summary>Last reported state.</summary>
    public CameraState State { get; private set; } = CameraState.Starting;

    /// <summary>First sequence number of a runner started at <paramref name="now"/>: microseconds since the Unix epoch.</summary>
    public static long FirstSequence(DateTimeOffset now) => (now - DateTimeOffset.UnixEpoch).Ticks / 10;

    /// <summary>Props for the entity of <paramref name="camera"/>.</summary>
    public static Props Props(string camera, ICameraRunnerFactory factory, IPipelineObserver observer, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new CameraActor(camera, factory, observer, time));

    protected override void PreStart()
    {
        var self = Self;
        _runner = _factory.Create(_camera, FirstSequence(_time.GetUtcNow()), state => self.Tell(new StateReported(state)));
        _observer.CameraStateChanged(_camera, _line, CameraState.Starting);
        _runner.RunAsync(_stop.Token).ContinueWith(
            t => self.Tell(new RunnerStopped(t.IsFaulted ? t.Exception?.GetBaseException() : null)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        var runner = _runner;
        _runner = null;
        _ = runner?.DisposeAsync().AsTask().ContinueWith(static _ => { }, TaskScheduler.Default);
        _observer.CameraStateChanged(_camera, _line, CameraState.Offline);
        _stop.Dispose();
    }

    private sealed record StateReported(CameraState State) : INoSerializationVerificationNeeded;

    private sealed record RunnerStopped(Exception? Error) : INoSerializationVerificationNeeded;
}

/// <summary>
/// Runs on every ingest node: every few seconds tells the camera region to make sure each
/// configured camera's entity runs (so cameras start at boot and come back after a failover).
/// </summary>
public sealed class CameraKeeper : ReceiveActor, IWithTimers
{
    public CameraKeeper(IActorRef cameras, IReadOnlyList<string> cameraIds, TimeSpan interval)
    {
        Receive<Ensure>(_ =>
        {
            foreach (var id in cameraIds)
            {
                cameras.Tell(new EnsureCamera(id));
            }
        });
        Self.Tell(Ensure.Instance);
        Timers!.StartPeriodicTimer("ensure", Ensure.Instance, interval);
    }

    public ITimerScheduler? Timers { get; set; }

    public static Props Props(IActorRef cameras, IReadOnlyList<string> cameraIds, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new CameraKeeper(cameras, cameraIds, interval));

    private sealed class Ensure
    {
        public static Ensure Instance { get; } = new();
    }
}
