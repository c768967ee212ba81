using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Host.Cameras;
using StreamAnomaly.Host.Dashboard;
using StreamAnomaly.Host.Http;
using StreamAnomaly.Host.Metrics;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Mqtt;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Streaming;

namespace StreamAnomaly.Host;

/// <summary>What a node gets from whoever starts it besides its settings.</summary>
public sealed record NodeServices
{
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Detectors for the worker role; by default the configured bundles are loaded.</summary>
    public Func<IReadOnlyList<IFrameScorer>>? Scorers { get; init; }

    /// <summary>An extra observer (the demo's console view), besides the node's metrics.</summary>
    public IPipelineObserver? Observer { get; init; }

    /// <summary>Extra HOCON laid over the node's Akka configuration (tests).</summary>
    public string? AkkaOverrides { get; init; }

    /// <summary>Camera pump tuning; null for the defaults.</summary>
    public CameraPumpOptions? Pump { get; init; }

    /// <summary>Where node logs go (one line each); null for standard error.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// One running StreamAnomaly node: the actor system with the configured roles, its Kafka clients
/// (or the embedded broker when no bootstrap servers are configured), cameras, workers,
/// aggregators, metrics and the status server. Start with <see cref="StartAsync"/>; dispose to
/// leave the cluster gracefully (shards hand off, offsets are committed).
/// </summary>
public sealed class PlantNode : IAsyncDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<IAsyncDisposable> _ownedAsync = [];
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _ready;
    private volatile IReadOnlyDictionary<string, int> _members = new Dictionary<string, int>();
    private volatile string? _failure;

    private PlantNode(PlantSettings settings, NodeServices services, PipelineMetrics metrics, HttpAccess access, BundleKey? bundleKey)
    {
        Settings = settings;
        Services = services;
        Metrics = metrics;
        Access = access;
        BundleKey = bundleKey;
    }

    public PlantSettings Settings { get; }

    public NodeServices Services { get; }

    public PipelineMetrics Metrics { get; }

    public ActorSystem System { get; private set; } = null!;

    /// <summary>Kafka bootstrap servers in use (the embedded broker's when none were configured).</summary>
    public string BootstrapServers { get; private set; } = string.Empty;

    /// <summary>Base address of /metrics, /healthz, /readyz.</summary>
    public Uri StatusAddress => Http.Address;

    /// <summary>The live dashboard's state (nodes with the aggregator role), else null.</summary>
    public DashboardState? Dashboard { get; private set; }

    /// <summary>The live dashboard page (nodes with the aggregator role), else null.</summary>
    public Uri? DashboardAddress => Dashboard is null ? null : new Uri(StatusAddress, "dashboard");

    /// <summary>Cluster address of this node, host:port.</summary>
    public string ClusterAddress => $"{Akka.Cluster.Cluster.Get(System).SelfAddress.Host}:{Akka.Cluster.Cluster.Get(System).SelfAddress.Port}";

    /// <summary>The camera region (ingest nodes) or a proxy to it.</summary>
    public IActorRef Cameras { get; private set; } = ActorRefs.Nobody;

    /// <summary>The line region (aggregator nodes) or a proxy to it.</summary>
    public IActorRef Lines { get; private set; } = ActorRefs.Nobody;

    /// <summary>This node's worker, when it has the worker role.</summary>
    public IActorRef? Worker { get; private set; }

    private StatusServer Http { get; set; } = null!;

    /// <summary>Who may use the protected HTTP routes.</summary>
    private HttpAccess Access { get; }

    /// <summary>The key bundles must be signed with (Worker:BundleKeyFile), or null.</summary>
    private BundleKey? BundleKey { get; }

    /// <summary>Starts a node; configuration problems throw <see cref="InvalidConfigurationException"/> before anything runs.</summary>
    public static async Task<PlantNode> StartAsync(PlantSettings settings, NodeServices? services = null, CancellationToken cancellationToken = default)
    {
        settings.EnsureValid();
        services ??= new NodeServices();
        if (settings.Node.Has(PlantSharding.WorkerRole) && services.Scorers is null)
        {
            var unrouted = settings.Lines.Length == 0 && settings.Worker.Bundles.Length == 0
                ? ["Worker:Bundles must name at least one model bundle on a node with the worker role (train one with `streamanomaly train`)"]
                : settings.UnroutedCameras();
            if (unrouted.Count > 0)
            {
                throw new InvalidConfigurationException(unrouted);
            }
        }

        // Secrets are read before anything runs: a bad token or key file is a start-up error.
        var metrics = new PipelineMetrics(Prometheus.Metrics.NewCustomRegistry());
        var access = HttpAccess.From(settings.Http, metrics);
        BundleKey? bundleKey = null;
        if (!string.IsNullOrEmpty(settings.Worker.BundleKeyFile))
        {
            try
            {
                bundleKey = BundleKey.FromFile(settings.Worker.BundleKeyFile);
            }
            catch (Core.Data.InvalidDataFileException e)
            {
                throw new InvalidConfigurationException([$"Worker:BundleKeyFile: {e.Message}"]);
            }
        }

        var node = new PlantNode(settings, services, metrics, access, bundleKey);
        try
        {
            await node.StartInternalAsync(cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Asks a camera to show an anomaly.</summary>
    public Task<AnomalyInjection> InjectAsync(string camera, string kind, TimeSpan? timeout = null) =>
        Cameras.Ask<AnomalyInjection>(new InjectAnomaly(camera, kind), timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>A line's state from its aggregator.</summary>
    public Task<LineStatus> LineStatusAsync(string line, TimeSpan? timeout = null) =>
        Lines.Ask<LineStatus>(new GetLineStatus(line), timeout ?? TimeSpan.FromSeconds(10));

    private void Log(string message) => (Services.Log ?? Console.Error.WriteLine)(message);

    private async Task StartInternalAsync(CancellationToken cancellationToken)
    {
        var node = Settings.Node;
        var time = Services.Time;
        ActorSystemSetup akka;
        try
        {
            // Secrets are read here, before anything starts: an unreadable one is a configuration problem.
            Settings.Kafka.Security.ApplyTo(new Confluent.Kafka.ClientConfig());
            var journal = node.Has(PlantSharding.AggregatorRole) ? Settings.Journal.ToHocon() : null;
            var config = node.ToAkkaConfig(string.Join('\n', new[] { journal, Services.AkkaOverrides }.Where(static h => h is not null))).WithFallback(JournalOptions.PluginDefaults);
            akka = Settings.Cluster.ToSetup(config, time);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidConfigurationException([e.Message]);
        }

        List<IPipelineObserver> observers = [Metrics, .. Services.Observer is null ? [] : new[] { Services.Observer }];
        if (node.Has(PlantSharding.AggregatorRole))
        {
            Dashboard = new DashboardState(Settings.CameraLines, time, Settings.Aggregation, evidence: new AlarmEvidenceStore(Settings.Http.MaxAlarmEvidence, Settings.Http.MaxAlarmEvidenceBytes));
            observers.Add(Dashboard);
        }

        var observer = observers.Count == 1 ? (IPipelineObserver)Metrics : new FanOutObserver([.. observers]);
        Metrics.Initialise(Settings.Lines);

        // Kafka first: a node that cannot reach its broker should fail before joining the cluster.
        EmbeddedBroker? embedded = null;
        if (Settings.Kafka.UsesEmbeddedBroker)
        {
            embedded = Own(new EmbeddedBroker(brokers: 1));
            Log($"embedded Kafka broker (librdkafka mock cluster) at {embedded.BootstrapServers}; {EmbeddedBroker.RetentionWarning}");
        }

        BootstrapServers = embedded?.BootstrapServers ?? Settings.Kafka.BootstrapServers!;
        await TopicProvisioner.EnsureTopicsAsync(Settings.Kafka with { BootstrapServers = BootstrapServers }, embedded, cancellationToken);
        if (Dashboard is not null)
        {
            _ownedAsync.Add(new DashboardFrameFeed(Settings.Kafka, BootstrapServers, Dashboard, Log));
        }

        // Camera sources are checked before start so a missing file is a start-up error, not a crash loop.
        CameraRunnerFactory? cameraFactory = null;
        if (node.Has(PlantSharding.IngestRole))
        {
            var http = Own(new HttpClient { Timeout = Timeout.InfiniteTimeSpan });
            var sink = Own(new KafkaFrameSink(Settings.Kafka, BootstrapServers));
            cameraFactory = new CameraRunnerFactory(Settings.Lines, sink, time, http, Metrics, Services.Pump);
            var problems = await cameraFactory.CheckSourcesAsync();
            if (problems.Count > 0)
            {
                throw new InvalidConfigurationException(problems);
            }
        }

        System = ActorSystem.Create(node.ClusterName, akka);
        var cluster = Akka.Cluster.Cluster.Get(System);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        if (node.SeedNodes.Length == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }

        System.ActorOf(ClusterMembersActor.Props(counts =>
        {
            _members = counts;
            foreach (var (role, count) in counts)
            {
                Metrics.ClusterMembers.WithLabels(role).Set(count);
            }
        }), "cluster-members");
        Http = await StatusServer.StartAsync(Settings.Http.Endpoint, Metrics.Registry, Access, Readiness, MapCommands, () => _failure);
        Log($"status server at {Http.Address} (/metrics, /healthz, /readyz{(Dashboard is null ? "" : ", /dashboard")}{(Settings.Http.AnomalyInjection ? ", POST /cameras/{camera}/anomalies" : "")}; {(Access.RequiresToken ? "dashboard and commands need the token" : "no token: loopback only")})");
        await up.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        Log($"node {ClusterAddress} is up with roles {string.Join(",", node.Roles)}");

        if (node.Has(PlantSharding.AggregatorRole))
        {
            List<IAlarmSink> alarms = [Own(new KafkaAlarmSink(Settings.Kafka, BootstrapServers))];
            if (Settings.Mqtt.Enabled)
            {
                var mqtt = new MqttAlarmSink(Settings.Mqtt);
                _ownedAsync.Add(mqtt);
                alarms.Add(mqtt);
                Log($"alarms also go out on MQTT at {Settings.Mqtt.Server}, topics {mqtt.TopicOf("{line}")}");
            }

            var cameraFps = Settings.Lines.SelectMany(static l => l.Cameras).ToDictionary(static c => c.Id, static c => c.Fps, StringComparer.Ordinal);
            Lines = await PlantSharding.StartLinesAsync(System, line => LineAggregatorActor.Props(line, Settings.Aggregation, alarms, observer, time, cameraFps));
        }
        else
        {
            Lines = await PlantSharding.LineProxyAsync(System);
        }

        Cameras = cameraFactory is not null
            ? await PlantSharding.StartCamerasAsync(System, camera => CameraActor.Props(camera, cameraFactory, observer, time))
            : await PlantSharding.CameraProxyAsync(System);
        if (cameraFactory is not null)
        {
            System.ActorOf(CameraKeeper.Props(Cameras, Settings.Lines.SelectMany(static l => l.Cameras).Select(static c => c.Id).ToArray(), TimeSpan.FromSeconds(3)), "camera-keeper");
        }

        if (node.Has(PlantSharding.WorkerRole))
        {
            StartWorker(observer, time);
        }

        _ready = true;
    }

    private void StartWorker(IPipelineObserver observer, TimeProvider time)
    {
        var worker = Settings.Worker;
        var routes = Services.Scorers is { } scorers ? ScorerRoutes.Everywhere(scorers()) : LoadRoutes();

        var feed = new KafkaFrameFeed(Settings.Kafka, BootstrapServers, Settings.CameraLines, time, Metrics);
        _ownedAsync.Add(feed);
        var live = Settings.Lines.SelectMany(static l => l.Cameras).Where(static c => CameraSources.IsLive(c.Source)).Select(static c => c.Id).ToHashSet(StringComparer.Ordinal);
        Worker = System.ActorOf(
            WorkerActor.Props(feed, InferenceActor.Props(routes), Lines, new WorkerSettings(worker.Batching, worker.AckTimeout), live.Contains, observer, time),
            "worker");
        _ = Worker.WatchAsync().ContinueWith(
            _ =>
            {
                if (!_stop.IsCancellationRequested)
                {
                    _failure = "the worker stopped (its Kafka feed failed)";
                    Log(_failure);
                }
            },
            TaskScheduler.Default);
        if (Services.Scorers is null)
        {
            _ = WatchBundlesAsync(Worker, [.. routes.Scorers.Keys], time, _stop.Token);
        }
    }

    /// <summary>
    /// Loads each bundle some camera needs (<see cref="PlantSettings.CameraBundles"/>) once, and
    /// routes every camera to its own; a camera no line names gets Worker:Bundles.
    /// </summary>
    private ScorerRoutes LoadRoutes()
    {
        var cameras = Settings.CameraBundles;
        var scorers = new Dictionary<string, IFrameScorer>(StringComparer.Ordinal);
        try
        {
            foreach (var bundle in cameras.Values.SelectMany(static b => b).Concat(Settings.Worker.Bundles).Distinct(StringComparer.Ordinal))
            {
                scorers[bundle] = LoadBundle(bundle);
            }

            return new ScorerRoutes(scorers, cameras.ToDictionary(), Settings.Worker.Bundles);
        }
        catch
        {
            foreach (var scorer in scorers.Values)
            {
                scorer.Dispose();
            }

            throw;
        }
    }

    private DetectorFrameScorer LoadBundle(string bundle) =>
        DetectorFrameScorer.Load(bundle, TorchDevices.Parse(Settings.Worker.Device), Settings.Worker.GridSize, BundleKey);

    /// <summary>
    /// Rolls out a newer bundle version without a restart: polls each bundle file and replaces only
    /// the changed one's detector, so the cameras of other bundles keep theirs. A bundle that fails
    /// to load, for whatever reason, is logged and counted once per file version and the running
    /// version keeps scoring; nothing stops the watcher but the node stopping.
    /// </summary>
    private async Task WatchBundlesAsync(IActorRef worker, string[] bundles, TimeProvider time, CancellationToken cancellationToken)
    {
        static string Stamp(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "missing";
        }

        var stamps = bundles.Select(Stamp).ToArray();
        using var timer = new PeriodicTimer(Settings.Worker.BundlePollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                for (var b = 0; b < bundles.Length; b++)
                {
                    var now = Stamp(bundles[b]);
                    if (now == stamps[b])
                    {
                        continue;
                    }

                    stamps[b] = now;
                    try
                    {
                        worker.Tell(new ReplaceBundle(bundles[b], LoadBundle(bundles[b])));
                        Metrics.BundleReloads.WithLabels("loaded").Inc();
                        Log($"model bundle reloaded: {bundles[b]} (cameras {string.Join(", ", Settings.CameraBundles.Where(p => p.Value.Contains(bundles[b], StringComparer.Ordinal)).Select(static p => p.Key))})");
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Whatever a bundle file holds must not stop the rollout of the next good one.
                        Metrics.BundleReloads.WithLabels("refused").Inc();
                        Log($"model bundle reload failed, keeping the running version of {bundles[b]}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The dashboard, and POST /cameras/{camera}/anomalies?kind=KIND (inject an anomaly on a synthetic camera; any node can take it) when Http:AnomalyInjection is on.</summary>
    private void MapCommands(WebApplication app)
    {
        if (Dashboard is not null)
        {
            DashboardEndpoints.Map(app, Dashboard, Access, Services.Time);
        }

        if (!Settings.Http.AnomalyInjection)
        {
            return;
        }

        app.MapPost("/cameras/{camera}/anomalies", async (string camera, string? kind) =>
        {
            if (string.IsNullOrEmpty(kind))
            {
                return Results.BadRequest(new { error = "query parameter 'kind' is required" });
            }

            if (!Settings.CameraLines.ContainsKey(camera))
            {
                return Results.NotFound(new { error = $"camera '{camera}' is not configured" });
            }

            var reply = await InjectAsync(camera, kind);
            return reply.Error is null
                ? Results.Ok(new { camera, kind, at = reply.At })
                : Results.BadRequest(new { error = reply.Error });
        });
    }

    /// <summary>Null while the node's parts run, else what failed (then /healthz and /readyz answer 503).</summary>
    public string? Failure => _failure;

    private string? Readiness()
    {
        if (_failure is not null)
        {
            return _failure;
        }

        if (!_ready)
        {
            return "starting";
        }

        var self = Akka.Cluster.Cluster.Get(System).SelfMember;
        if (self.Status != MemberStatus.Up)
        {
            return $"cluster member is {self.Status}";
        }

        var missing = NeededRoles(Settings.Node.Roles).Where(r => _members.GetValueOrDefault(r) == 0).ToList();
        return missing.Count == 0 ? null : $"no reachable cluster member with role {string.Join(", ", missing)}, which this node's roles need";
    }

    /// <summary>
    /// The roles a node with <paramref name="roles"/> needs on other members to do its work: a
    /// worker sends every partial result to an aggregator. (An aggregator waits for workers and an
    /// ingest node writes to Kafka, so neither needs another role to be ready.)
    /// </summary>
    public static IReadOnlyList<string> NeededRoles(IReadOnlyCollection<string> roles) =>
        roles.Contains(PlantSharding.WorkerRole, StringComparer.Ordinal) && !roles.Contains(PlantSharding.AggregatorRole, StringComparer.Ordinal)
            ? [PlantSharding.AggregatorRole]
            : [];

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        lock (_owned)
        {
            _owned.Add(disposable);
        }

        return disposable;
    }

    public async ValueTask DisposeAsync()
    {
        _ready = false;
        await _stop.CancelAsync();
        if (System is not null)
        {
            // Leave the cluster: shards hand off to other nodes, the worker stops (its feed commits).
            await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        }

        foreach (var d in _ownedAsync)
        {
            await d.DisposeAsync();
        }

        if (Http is not null)
        {
            await Http.DisposeAsync();
        }

        List<IDisposable> owned;
        lock (_owned)
        {
            owned = [.. _owned];
        }

        owned.Reverse();
        foreach (var d in owned)
        {
            d.Dispose();
        }

        _stop.Dispose();
    }

    private sealed class FanOutObserver(params IPipelineObserver[] observers) : IPipelineObserver
    {
        public void CameraStateChanged(string camera, string line, CameraState state) => Array.ForEach(observers, o => o.CameraStateChanged(camera, line, state));

        public void BatchScored(int frames, TimeSpan took) => Array.ForEach(observers, o => o.BatchScored(frames, took));

        public void FramesDropped(string reason, int count) => Array.ForEach(observers, o => o.FramesDropped(reason, count));

        public void PartialsResent(int count) => Array.ForEach(observers, o => o.PartialsResent(count));

        public void FrameDecided(FrameDecided decided) => Array.ForEach(observers, o => o.FrameDecided(decided));

        public void FramesLost(string camera, long count) => Array.ForEach(observers, o => o.FramesLost(camera, count));

        public void AlarmChanged(AlarmEvent alarm) => Array.ForEach(observers, o => o.AlarmChanged(alarm));

        public void CycleCompleted(string camera, string line, CycleRecord cycle) => Array.ForEach(observers, o => o.CycleCompleted(camera, line, cycle));
    }
}
