using Prometheus;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Host.Metrics;

/// <summary>
/// Every metric a node exports on /metrics (Prometheus naming: snake case, unit suffix, _total on
/// counters). One instance per node, over its own registry, so several nodes can share a process
/// (tests, the demo). Also the observer of the actors, the Kafka clients and the camera pumps.
/// </summary>
public sealed class PipelineMetrics : IPipelineObserver, IKafkaObserver, ICameraPumpObserver
{
    /// <summary>Latency buckets (seconds) from 5 ms to 10 s: the capture-to-decision target is 0.25 s.</summary>
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];

    public PipelineMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        FramesIngested = f.CreateCounter("streamanomaly_frames_ingested_total", "Frames published to Kafka by camera actors.", "camera", "line");
        CameraErrors = f.CreateCounter("streamanomaly_camera_errors_total", "Camera source, crop or publish failures.", "camera", "kind");
        FramesConsumed = f.CreateCounter("streamanomaly_frames_consumed_total", "Valid frames handed to workers by the Kafka feed.");
        FramesScored = f.CreateCounter("streamanomaly_frames_scored_total", "Frames scored by a worker's detectors.");
        FramesDecided = f.CreateCounter("streamanomaly_frames_decided_total", "Frames fused and decided by line aggregators.", "line");
        DroppedFrames = f.CreateCounter("streamanomaly_frames_dropped_total", "Frames dropped on purpose, by reason.", "reason");
        FramesLostTotal = f.CreateCounter(
            "streamanomaly_frames_lost_total",
            "Frame numbers a camera skipped, as its line aggregator saw them: frames that will never be decided (removed by broker retention, dead-lettered, dropped by a worker, or never published).",
            "camera");
        DeadLetters = f.CreateCounter("streamanomaly_dead_letters_total", "Messages sent to the dead-letter topic, by reason.", "reason");
        DecodeErrors = f.CreateCounter("streamanomaly_decode_errors_total", "Frames whose image could not be decoded.");
        ResentPartials = f.CreateCounter("streamanomaly_partials_resent_total", "Partial results resent after an acknowledgement timeout.");
        BatchSize = f.CreateHistogram("streamanomaly_batch_size_frames", "Frames per inference batch.",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128] });
        InferenceSeconds = f.CreateHistogram("streamanomaly_inference_seconds", "Wall time of one inference batch (all detectors).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        EndToEndLatency = f.CreateHistogram("streamanomaly_end_to_end_latency_seconds", "Capture to decision time per frame.",
            new HistogramConfiguration { Buckets = LatencyBuckets, LabelNames = ["line"] });
        ConsumerLagMessages = f.CreateGauge("streamanomaly_consumer_lag_messages", "Messages behind the high watermark, per partition of the frames topic.", "partition");
        AnomalyScore = f.CreateGauge("streamanomaly_anomaly_score", "Latest smoothed normalised anomaly score (0.5 = threshold).", "camera", "line");
        AlarmsRaised = f.CreateCounter("streamanomaly_alarms_raised_total", "Alarms raised, per line.", "line");
        ActiveAlarms = f.CreateGauge("streamanomaly_active_alarms", "Alarms active now, per line.", "line");
        ClusterMembers = f.CreateGauge("streamanomaly_cluster_members", "Cluster members that are up, by role.", "role");
        CameraStates = f.CreateGauge("streamanomaly_camera_state", "1 for the camera's current state, 0 for the others.", "camera", "line", "state");
        KafkaErrors = f.CreateCounter("streamanomaly_kafka_client_errors_total", "Recoverable Kafka client errors (retried), by operation.", "operation");
        HttpRefused = f.CreateCounter("streamanomaly_http_refused_total", "HTTP requests refused by the status server: host, origin, unauthorized, event-streams-full.", "reason");
        EventStreams = f.CreateGauge("streamanomaly_dashboard_event_streams", "Dashboard event streams (Server-Sent Events) open now.");
        BundleReloads = f.CreateCounter("streamanomaly_bundle_reloads_total", "Changed model bundle files a worker looked at: loaded, or refused (the running version kept scoring).", "result");
        CycleSeconds = f.CreateHistogram("streamanomaly_cycle_seconds", "Machine cycle times per camera, as the cycle-phase detector tracks them.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.5, 1.25, 24), LabelNames = ["camera", "line"] });
        LastCycleSeconds = f.CreateGauge("streamanomaly_cycle_last_seconds", "The camera's last complete machine cycle, seconds.", "camera", "line");
    }

    public CollectorRegistry Registry { get; }

    /// <summary>
    /// Publishes every labelled series the plant can have at 0 (dead-letter and drop reasons,
    /// per-line alarm series, per-camera state), so dashboards and alerts see a value, not "no
    /// data", before the first event.
    /// </summary>
    public void Initialise(IEnumerable<LineOptions> lines)
    {
        foreach (var reason in DeadLetterReasons.All)
        {
            DeadLetters.WithLabels(reason);
        }

        foreach (var reason in DropReasons.All)
        {
            DroppedFrames.WithLabels(reason);
        }

        foreach (var line in lines)
        {
            AlarmsRaised.WithLabels(line.Id);
            ActiveAlarms.WithLabels(line.Id).Set(0);
            FramesDecided.WithLabels(line.Id);
            foreach (var camera in line.Cameras)
            {
                FramesIngested.WithLabels(camera.Id, line.Id);
                FramesLostTotal.WithLabels(camera.Id);
                foreach (var kind in CameraErrorKinds)
                {
                    CameraErrors.WithLabels(camera.Id, kind);
                }
            }
        }

        foreach (var role in NodeOptions.KnownRoles)
        {
            ClusterMembers.WithLabels(role).Set(0);
        }

        foreach (var operation in new[] { "commit", "consume", "dead-letter" })
        {
            KafkaErrors.WithLabels(operation);
        }

        foreach (var reason in Http.HttpAccess.Reasons)
        {
            HttpRefused.WithLabels(reason);
        }

        foreach (var result in new[] { "loaded", "refused" })
        {
            BundleReloads.WithLabels(result);
        }
    }

    /// <summary>Values of the kind label of <see cref="CameraErrors"/>.</summary>
    private static readonly string[] CameraErrorKinds = ["source", "frameerror", "sinkerror"];

    public Counter FramesIngested { get; }

    public Counter CameraErrors { get; }

    public Counter FramesConsumed { get; }

    public Counter FramesScored { get; }

    public Counter FramesDecided { get; }

    public Counter DroppedFrames { get; }

    /// <summary><c>streamanomaly_frames_lost_total{camera}</c>: see <see cref="StreamAnomaly.Core.Streaming.CameraSequences"/>.</summary>
    public Counter FramesLostTotal { get; }

    public Counter DeadLetters { get; }

    public Counter DecodeErrors { get; }

    public Counter ResentPartials { get; }

    public Histogram BatchSize { get; }

    public Histogram InferenceSeconds { get; }

    public Histogram EndToEndLatency { get; }

    public Gauge ConsumerLagMessages { get; }

    public Gauge AnomalyScore { get; }

    public Counter AlarmsRaised { get; }

    public Gauge ActiveAlarms { get; }

    public Gauge ClusterMembers { get; }

    public Gauge CameraStates { get; }

    public Counter KafkaErrors { get; }

    /// <summary><c>streamanomaly_http_refused_total{reason}</c>: see <see cref="Http.HttpAccess"/>.</summary>
    public Counter HttpRefused { get; }

    /// <summary><c>streamanomaly_dashboard_event_streams</c>: open now, at most Http:MaxEventStreams.</summary>
    public Gauge EventStreams { get; }

    /// <summary><c>streamanomaly_bundle_reloads_total{result}</c>: a refused bundle leaves the running version scoring.</summary>
    public Counter BundleReloads { get; }

    /// <summary>Complete machine cycles per camera, seconds.</summary>
    public Histogram CycleSeconds { get; }

    /// <summary>The last complete machine cycle per camera, seconds.</summary>
    public Gauge LastCycleSeconds { get; }

    // IKafkaObserver: the frame feed and its dead-letter producer
    public void FrameConsumed(FrameMetadata metadata) => FramesConsumed.Inc();

    public void DeadLettered(string reason, string detail)
    {
        DeadLetters.WithLabels(reason).Inc();
        if (reason == DeadLetterReasons.CorruptImage)
        {
            DecodeErrors.Inc();
        }
    }

    public void ConsumerLag(int partition, long lag) => ConsumerLagMessages.WithLabels(partition.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(lag);

    public void Committed(int partition, long offset)
    {
    }

    public void ClientError(string operation, string error) => KafkaErrors.WithLabels(operation).Inc();

    // ICameraPumpObserver: camera pumps on ingest nodes (states go through the camera actors)
    public void FramePublished(FrameMetadata metadata) => FramesIngested.WithLabels(metadata.Camera, metadata.Line).Inc();

    public void FrameDropped(string camera, FrameDropReason reason, string detail)
    {
        if (reason != FrameDropReason.RateLimited)
        {
            CameraErrors.WithLabels(camera, reason.ToString().ToLowerInvariant()).Inc();
        }
    }

    public void SourceFailed(string camera, Exception error, TimeSpan reconnectDelay) => CameraErrors.WithLabels(camera, CameraErrorKinds[0]).Inc();

    public void CameraStateChanged(string camera, string line, CameraState state)
    {
        foreach (var s in Enum.GetValues<CameraState>())
        {
            CameraStates.WithLabels(camera, line, s.ToString().ToLowerInvariant()).Set(s == state ? 1 : 0);
        }
    }

    public void BatchScored(int frames, TimeSpan took)
    {
        FramesScored.Inc(frames);
        BatchSize.Observe(frames);
        InferenceSeconds.Observe(took.TotalSeconds);
    }

    public void FramesDropped(string reason, int count) => DroppedFrames.WithLabels(reason).Inc(count);

    public void PartialsResent(int count) => ResentPartials.Inc(count);

    public void FrameDecided(FrameDecided decided)
    {
        var fused = decided.Fused;
        FramesDecided.WithLabels(fused.Line).Inc();
        AnomalyScore.WithLabels(fused.Frame.Camera, fused.Line).Set(decided.Smoothed);
        EndToEndLatency.WithLabels(fused.Line).Observe(Math.Max(0, (decided.DecidedAt - fused.CaptureTime).TotalSeconds));
    }

    public void FramesLost(string camera, long count) => FramesLostTotal.WithLabels(camera).Inc(count);

    public void CycleCompleted(string camera, string line, CycleRecord cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        CycleSeconds.WithLabels(camera, line).Observe(cycle.Duration.TotalSeconds);
        LastCycleSeconds.WithLabels(camera, line).Set(cycle.Duration.TotalSeconds);
    }

    public void AlarmChanged(AlarmEvent alarm)
    {
        switch (alarm.Phase)
        {
            case AlarmPhase.Raised:
                AlarmsRaised.WithLabels(alarm.Line).Inc();
                ActiveAlarms.WithLabels(alarm.Line).Set(1);
                break;
            case AlarmPhase.Updated:
                // also where a line recovered on this node with its alarm active
                ActiveAlarms.WithLabels(alarm.Line).Set(1);
                break;
            case AlarmPhase.Cleared:
                ActiveAlarms.WithLabels(alarm.Line).Set(0);
                break;
        }
    }
}
