using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What <c>bench pipeline</c> runs.</summary>
/// <param name="Cameras">Cameras of the throughput and latency phases.</param>
/// <param name="Seconds">Measured seconds of each phase (each also warms up for a third of it, at least 1 s).</param>
/// <param name="Size">Published frame side in pixels.</param>
/// <param name="CpuFps">Per-camera frame rate of the CPU-per-frame phase (low enough not to saturate).</param>
/// <param name="CpuCameras">Camera counts of the CPU-per-frame phase.</param>
internal sealed record PipelineBenchRequest(int Cameras, double Seconds, int Size, double CpuFps = 5, int[]? CpuCameras = null)
{
    public IReadOnlyList<int> CpuCameraCounts => CpuCameras is { Length: > 0 } c ? c : [4, 16, 64];
}

/// <summary>One printed row: <see cref="Value"/> is the figure, <see cref="Ratio"/> its ratio to the row's reference (if any).</summary>
internal sealed record PipelineBenchRow(string Name, double Value, string Unit, double? Ratio, string Target, bool? Met, string Load);

/// <summary>
/// <c>bench pipeline</c>: the streaming pipeline's throughput, latency and CPU cost, each against
/// the bare component it is built on, measured in one process (so on one machine, one run):
/// <list type="number">
/// <item>raw Kafka: the same JPEG messages and headers through <see cref="KafkaFrameSink"/> (32
/// publishes in flight per camera) and a plain group consumer on an <see cref="EmbeddedBroker"/>;</item>
/// <item>the full <see cref="PlantNode"/> (every role, embedded broker) with a no-op detector and
/// N folder cameras of pre-rendered frames at 120 fps each (the configuration maximum): frames
/// decided per second at the aggregators, after a warm-up;</item>
/// <item>the bare batched autoencoder (<see cref="IFrameScorer.Score"/> on batches of the worker's
/// size of the same decoded frames) vs the same plant with that autoencoder; the same for PatchCore
/// on the pretrained ResNet-18 (fitted on the same frames);</item>
/// <item>capture -> decision latency, N live synthetic cameras at 5 fps, autoencoder;</item>
/// <item>process CPU time per decided frame at several camera counts, folder cameras paced at a
/// low fixed rate, no-op detector (the pipeline's own cost per frame).</item>
/// </list>
/// </summary>
internal static class PipelineBenchWorkflow
{
    /// <summary>A folder camera's rate when the pipeline is to be saturated (the largest Fps the configuration allows).</summary>
    private const double SaturatingFps = 120;

    private const int CamerasPerLine = 4;

    /// <summary>Frames the raw Kafka phase lets be produced and not yet consumed.</summary>
    private const int RawWindow = 1024;

    public static async Task<IReadOnlyList<PipelineBenchRow>> RunAsync(PipelineBenchRequest request, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Size < 16 || request.Size > 1024)
        {
            throw new ArgumentException($"--size must be in [16, 1024], got {request.Size}");
        }

        var warm = TimeSpan.FromSeconds(Math.Max(1, request.Seconds / 3));
        var measure = TimeSpan.FromSeconds(request.Seconds);
        var folder = Directory.CreateTempSubdirectory("streamanomaly-bench-");
        var rows = new List<PipelineBenchRow>();
        try
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench pipeline: {request.Cameras} cameras, {request.Size}x{request.Size} JPEG frames, {warm.TotalSeconds:0.#} s warm-up + {measure.TotalSeconds:0.#} s per phase, {Environment.ProcessorCount} CPUs"));

            // The same frames everywhere: rendered synthetic scenes, JPEG as a camera publishes them, decoded as a worker sees them.
            var rendered = Commissioning.NormalFootage([new CameraOptions("bench-cam", "synthetic:7", 5, request.Size, request.Size)], 24 / 5.0, jpegQuality: null)[0];
            var jpegs = rendered.Select(static f => ImageCodec.EncodeJpeg(f, Ingest.Cameras.CameraPumpOptions.Default.JpegQuality)).ToArray();
            var decoded = jpegs.Select(static j => ImageCodec.DecodeFrame(j)).ToArray();
            for (var i = 0; i < rendered.Count; i++)
            {
                ImageCodec.WriteFrame(Path.Combine(folder.FullName, $"{i:D4}.png"), rendered[i]);
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"frames: {jpegs.Length} distinct, JPEG {jpegs.Average(static j => j.Length) / 1024:0.0} KiB on average"));

            Progress(output, "1/6 raw Kafka produce+consume");
            var raw = await RawKafkaAsync(jpegs, request.Cameras, request.Size, warm, measure, cancellationToken);
            rows.Add(new("raw-kafka", raw.Consumed, "frames/s", null, string.Empty, null, string.Create(CultureInfo.InvariantCulture, $"{request.Cameras} keys, KafkaFrameSink (32 in flight per key) + plain consumer, embedded broker; produced {raw.Produced:0}/s")));

            Progress(output, "2/6 pipeline, no-op detector");
            var (noop, noopOffered) = await SaturateAsync(request.Cameras, folder.FullName, request.Size, 10 * request.Cameras, 2, () => new NoOpScorer(), warm, measure, output, cancellationToken);
            rows.Add(Ratio("pipeline-noop", noop.FramesPerSecond, raw.Consumed, 0.5, string.Create(CultureInfo.InvariantCulture, $"{request.Cameras} folder cameras, best of a ramp, {noopOffered:0} frames/s offered; {noop.Describe()}")));

            Progress(output, "3/6 autoencoder: training a small one, bare batched, then in the pipeline");
            var input = Math.Clamp(request.Size / 16 * 16, 16, 64);
            using var autoencoder = Commissioning.Scorer([decoded], CommissioningOptions.Autoencoder(input, epochs: 1));
            rows.AddRange(await DetectorRowsAsync("autoencoder", autoencoder, decoded, request, folder.FullName, warm, measure, output, cancellationToken));

            Progress(output, "4/6 PatchCore (pretrained ResNet-18): fitting one, bare batched, then in the pipeline");
            using (var patchcore = Commissioning.Scorer([decoded], new CommissioningOptions { Settings = [string.Create(CultureInfo.InvariantCulture, $"size={Math.Max(32, input)}")] }))
            {
                rows.AddRange(await DetectorRowsAsync("patchcore", patchcore, decoded, request, folder.FullName, warm, measure, output, cancellationToken));
            }

            Progress(output, "5/6 latency, live synthetic cameras at 5 fps");
            var live = SyntheticPlant(request.Cameras, 5, request.Size);
            var latency = await PlantAsync(live, () => new SharedScorer(autoencoder), warm, measure, latencies: true, cancellationToken);
            var liveLoad = $"{request.Cameras} synthetic cameras x 5 fps, autoencoder; {latency.Describe()}";
            rows.Add(new("latency-p50", latency.P50 * 1000, "ms", null, string.Empty, null, liveLoad));
            rows.Add(new("latency-p99", latency.P99 * 1000, "ms", null, "<= 250 ms", latency.P99 * 1000 <= 250, liveLoad));

            Progress(output, "6/6 CPU per frame");
            var costs = new List<double>();
            foreach (var cameras in request.CpuCameraCounts)
            {
                var paced = FolderPlant(cameras, folder.FullName, request.CpuFps, request.Size);
                var run = await PlantAsync(paced, () => new NoOpScorer(), warm, measure, latencies: false, cancellationToken);
                var cost = run.CpuMsPerFrame;
                costs.Add(cost);
                rows.Add(new($"cpu-per-frame-{cameras}", cost, "ms CPU/frame", null, string.Empty, null, string.Create(CultureInfo.InvariantCulture, $"{cameras} folder cameras x {request.CpuFps:0.#} fps, no-op detector; {run.Describe()}")));
            }

            FitCpu(request.CpuCameraCounts.Select(c => c * request.CpuFps).ToArray(), costs, output);
            var spread = costs.Max() / costs.Min();
            rows.Add(new("cpu-per-frame-max/min", spread, "ratio", null, "<= 1.10", spread <= 1.10, string.Join(", ", request.CpuCameraCounts) + " cameras"));

            Print(rows, output);
            return rows;
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// A detector's rows: its bare batched throughput (the best of the caller's thread and a
    /// dedicated one, as the inference actor has) and the pipeline's with it, best of a load ramp.
    /// </summary>
    private static async Task<PipelineBenchRow[]> DetectorRowsAsync(string name, IFrameScorer scorer, IReadOnlyList<Frame> frames, PipelineBenchRequest request, string folder, TimeSpan warm, TimeSpan measure, TextWriter output, CancellationToken cancellationToken)
    {
        var batchSize = new WorkerConfig().MaxBatchSize;
        var bareFirst = BareScorer(scorer, frames, batchSize, measure / 2);
        var bareThread = await Task.Factory.StartNew(() => BareScorer(scorer, frames, batchSize, measure / 2), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   bare {name}: {bareFirst:0.0} frames/s on the caller's thread, {bareThread:0.0} on a dedicated thread"));
        var bare = Math.Max(bareFirst, bareThread);
        var (piped, offered) = await SaturateAsync(request.Cameras, folder, request.Size, 0.6 * bare, 1.5, () => new SharedScorer(scorer), warm, measure, output, cancellationToken);
        var bareAfter = await Task.Factory.StartNew(() => BareScorer(scorer, frames, batchSize, measure / 2), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   bare {name} again after the pipeline: {bareAfter:0.0} frames/s"));
        return
        [
            new($"{name}-bare", bare, "frames/s", null, string.Empty, null, $"DetectorFrameScorer.Score, batches of {batchSize}"),
            Ratio($"pipeline-{name}", piped.FramesPerSecond, bare, 0.9, string.Create(CultureInfo.InvariantCulture, $"{request.Cameras} folder cameras, best of a ramp, {offered:0} frames/s offered; {piped.Describe()}")),
        ];
    }

    /// <summary>Least-squares CPU/s = idle + marginal x frames/s over the CPU phase's points: what a frame costs beyond the plant's fixed cost.</summary>
    private static void FitCpu(IReadOnlyList<double> rates, IReadOnlyList<double> msPerFrame, TextWriter output)
    {
        var y = rates.Zip(msPerFrame, static (r, c) => r * c).ToArray();
        var mx = rates.Average();
        var my = y.Average();
        var sxx = rates.Sum(r => (r - mx) * (r - mx));
        var marginal = sxx > 0 ? rates.Zip(y, (r, v) => (r - mx) * (v - my)).Sum() / sxx : double.NaN;
        var idle = my - (marginal * mx);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   CPU model (least squares): {idle:0} ms CPU/s fixed + {marginal:0.00} ms CPU per frame"));
    }

    private static void Progress(TextWriter output, string phase) => output.WriteLine($"-- {phase}");

    private static PipelineBenchRow Ratio(string name, double value, double reference, double target, string load)
    {
        var ratio = value / reference;
        return new(name, value, "frames/s", ratio, string.Create(CultureInfo.InvariantCulture, $">= {target:0.0#}x"), ratio >= target, load);
    }

    private static void Print(IReadOnlyList<PipelineBenchRow> rows, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{"row",-24} {"figure",12} {"unit",-14} {"ratio",7} {"target",-10} {"met",-4} load");
        foreach (var row in rows)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{row.Name,-24} {row.Value,12:F2} {row.Unit,-14} {(row.Ratio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-"),7} {(row.Target.Length == 0 ? "-" : row.Target),-10} {(row.Met is { } m ? (m ? "yes" : "NO") : "-"),-4} {row.Load}"));
        }
    }

    // ---- phase 1: raw Kafka ------------------------------------------------------------------

    private static async Task<(double Consumed, double Produced)> RawKafkaAsync(byte[][] jpegs, int cameras, int size, TimeSpan warm, TimeSpan measure, CancellationToken cancellationToken)
    {
        using var broker = new EmbeddedBroker(brokers: 1);
        var options = new KafkaOptions { BootstrapServers = broker.BootstrapServers };
        await TopicProvisioner.EnsureTopicsAsync(options, broker, cancellationToken);
        using var sink = new KafkaFrameSink(options, broker.BootstrapServers);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long consumed = 0, produced = 0;
        Exception? failure = null;
        var assigned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Closed loop: at most RawWindow frames between producers and the consumer, so the producers
        // cannot outrun the consumer into the embedded broker's retention limit (~5 MiB a partition).
        using var window = new SemaphoreSlim(RawWindow);

        // The consumer settings that matter for speed are the frame feed's (KafkaClientConfig.Consumer).
        var config = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "bench-raw",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = options.SessionTimeoutMs,
            HeartbeatIntervalMs = options.HeartbeatIntervalMs,
            MaxPartitionFetchBytes = Math.Max(options.MaxRecordBytes, 1024 * 1024),
            QueuedMaxMessagesKbytes = Math.Max(16 * 1024, 4 * options.MaxRecordBytes / 1024),
        };
        var consumer = Task.Factory.StartNew(
            () =>
            {
                using var client = new ConsumerBuilder<byte[], byte[]>(config).SetPartitionsAssignedHandler((_, _) => assigned.TrySetResult()).Build();
                client.Subscribe(options.FramesTopic);
                while (!stop.IsCancellationRequested)
                {
                    if (client.Consume(TimeSpan.FromMilliseconds(100)) is { Message: not null, IsPartitionEOF: false })
                    {
                        Interlocked.Increment(ref consumed);
                        window.Release();
                    }
                }

                client.Close();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await assigned.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        var producers = Enumerable.Range(0, cameras).Select(c => Task.Run(
            async () =>
            {
                var camera = $"cam{c}";
                var line = $"line-{c / CamerasPerLine}";
                var pending = new Queue<Task>();
                long sequence = 0;
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await window.WaitAsync(stop.Token);
                        var metadata = new FrameMetadata(camera, line, sequence, TimeProvider.System.GetUtcNow(), size, size);
                        pending.Enqueue(sink.PublishAsync(metadata, jpegs[sequence % jpegs.Length], stop.Token));
                        sequence++;
                        if (pending.Count >= 32)
                        {
                            await pending.Dequeue();
                            Interlocked.Increment(ref produced);
                        }
                    }

                    await Task.WhenAll(pending);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            },
            CancellationToken.None)).ToArray();

        await Task.Delay(warm, cancellationToken);
        var watch = Stopwatch.StartNew();
        var start = Interlocked.Read(ref consumed);
        var startProduced = Interlocked.Read(ref produced);
        await Task.Delay(measure, cancellationToken);
        var frames = Interlocked.Read(ref consumed) - start;
        var producedFrames = Interlocked.Read(ref produced) - startProduced;
        var seconds = watch.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(producers);
        }
        catch (ProduceException<string, byte[]>)
        {
            // messages cut off by the stop: not counted anyway
        }

        await consumer;
        if (failure is not null)
        {
            throw new InvalidOperationException($"raw Kafka phase: a producer failed: {failure.Message}", failure);
        }

        return (frames / seconds, producedFrames / seconds);
    }

    // ---- phases 2-5: the plant ---------------------------------------------------------------

    private sealed record PlantRun(double FramesPerSecond, double CpuMsPerFrame, double P50, double P99, double MeanBatch, double MsPerBatch, long Dropped, double Published, double Consumed)
    {
        public string Describe() => string.Create(
            CultureInfo.InvariantCulture,
            $"published {Published:0}/s, consumed {Consumed:0}/s, mean batch {MeanBatch:0.0} frames, {MsPerBatch:0.0} ms inference/batch, {Dropped} dropped by the worker");
    }

    private static (double Published, double Consumed) Counts(Host.Metrics.PipelineMetrics metrics) =>
        (metrics.FramesIngested.GetAllLabelValues().Sum(l => metrics.FramesIngested.WithLabels(l).Value), metrics.FramesConsumed.Value);

    private static LineOptions[] Lines(int cameras, Func<int, CameraOptions> camera) =>
        Enumerable.Range(0, (cameras + CamerasPerLine - 1) / CamerasPerLine)
            .Select(l => new LineOptions($"line-{l}", Enumerable.Range(l * CamerasPerLine, Math.Min(CamerasPerLine, cameras - (l * CamerasPerLine))).Select(camera).ToArray()))
            .ToArray();

    /// <summary>
    /// The pipeline's sustainable throughput: folder cameras offered <paramref name="start"/>
    /// frames/s in all, then <paramref name="growth"/> times more per step, until the plant decides
    /// under 90 % of what is offered (or the cameras are at <see cref="SaturatingFps"/>); the best
    /// step wins. Offering far more than the plant takes is no test of it: on a small machine the
    /// cameras' own decoding and encoding then take the CPU the worker needs, and the embedded
    /// broker drops what it cannot keep.
    /// </summary>
    private static async Task<(PlantRun Best, double Offered)> SaturateAsync(
        int cameras, string folder, int size, double start, double growth, Func<IFrameScorer> scorer, TimeSpan warm, TimeSpan measure, TextWriter output, CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromSeconds(Math.Max(1, measure.TotalSeconds / 2));
        (PlantRun Run, double Offered)? best = null;
        var offered = Math.Max(start, cameras * 0.5);
        for (var i = 0; i < 6; i++)
        {
            var fps = Math.Min(SaturatingFps, offered / cameras);
            var run = await PlantAsync(FolderPlant(cameras, folder, fps, size), scorer, warm, step, latencies: false, cancellationToken);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   offered {fps * cameras,7:0}/s -> decided {run.FramesPerSecond,7:0.0}/s ({run.Describe()})"));
            if (best is null || run.FramesPerSecond > best.Value.Run.FramesPerSecond)
            {
                best = (run, fps * cameras);
            }

            if (run.FramesPerSecond < 0.9 * fps * cameras || fps >= SaturatingFps)
            {
                break;
            }

            offered *= growth;
        }

        return best!.Value;
    }

    private static PlantSettings FolderPlant(int cameras, string folder, double fps, int size) => new()
    {
        Http = new HttpSettings { Listen = "127.0.0.1:0" },
        Lines = Lines(cameras, c => new CameraOptions($"cam{c}", $"folder:{folder}?loop=true", fps, size, size)),
    };

    private static PlantSettings SyntheticPlant(int cameras, double fps, int size) => new()
    {
        Http = new HttpSettings { Listen = "127.0.0.1:0" },
        Lines = Lines(cameras, c => new CameraOptions($"cam{c}", $"synthetic:{c}", fps, size, size)),
    };

    private static async Task<PlantRun> PlantAsync(PlantSettings settings, Func<IFrameScorer> scorer, TimeSpan warm, TimeSpan measure, bool latencies, CancellationToken cancellationToken)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var recorder = new BenchRecorder();
        await using (var node = await PlantNode.StartAsync(settings, new NodeServices { Scorers = () => [scorer()], Observer = recorder, Log = static _ => { } }, cancellationToken))
        {
            await recorder.FirstDecision.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            await Task.Delay(warm, cancellationToken);
            using var process = Process.GetCurrentProcess();
            var before = recorder.Snapshot();
            var counts = Counts(node.Metrics);
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            recorder.Recording = latencies;
            await Task.Delay(measure, cancellationToken);
            recorder.Recording = false;
            process.Refresh();
            var cpuUsed = process.TotalProcessorTime - cpu;
            var seconds = watch.Elapsed.TotalSeconds;
            var after = recorder.Snapshot();
            var countsAfter = Counts(node.Metrics);
            var frames = after.Decided - before.Decided;
            var batches = after.Batches - before.Batches;
            var sorted = recorder.Latencies.Order().ToArray();
            return new PlantRun(
                frames / seconds,
                frames > 0 ? cpuUsed.TotalMilliseconds / frames : double.NaN,
                sorted.Length > 0 ? Percentiles.OfSorted(sorted, 50) : double.NaN,
                sorted.Length > 0 ? Percentiles.OfSorted(sorted, 99) : double.NaN,
                batches > 0 ? (double)(after.BatchedFrames - before.BatchedFrames) / batches : double.NaN,
                batches > 0 ? (after.InferenceTime - before.InferenceTime).TotalMilliseconds / batches : double.NaN,
                after.Dropped - before.Dropped,
                (countsAfter.Published - counts.Published) / seconds,
                (countsAfter.Consumed - counts.Consumed) / seconds);
        }
    }

    private static double BareScorer(IFrameScorer scorer, IReadOnlyList<Frame> frames, int batchSize, TimeSpan measure)
    {
        var batches = Enumerable.Range(0, frames.Count).Chunk(batchSize)
            .Select(chunk => chunk.Select(i => (new FrameKey("cam0", i), frames[i])).ToArray())
            .Where(b => b.Length == batchSize)
            .ToArray();
        if (batches.Length == 0)
        {
            batches = [Enumerable.Range(0, batchSize).Select(i => (new FrameKey("cam0", i), frames[i % frames.Count])).ToArray()];
        }

        scorer.Score(batches[0]); // warm-up
        var watch = Stopwatch.StartNew();
        long scored = 0;
        for (var b = 0; watch.Elapsed < measure; b++)
        {
            scored += scorer.Score(batches[b % batches.Length]).Count;
        }

        return scored / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Counts what the aggregators decided and what the worker scored; latencies only while <see cref="Recording"/>. Thread-safe.</summary>
    private sealed class BenchRecorder : IPipelineObserver
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private readonly List<double> _latencies = [];
        private long _decided, _batches, _batchedFrames, _inferenceTicks, _dropped;

        public Task FirstDecision => _first.Task;

        public volatile bool Recording;

        public IReadOnlyList<double> Latencies
        {
            get
            {
                lock (_gate)
                {
                    return [.. _latencies];
                }
            }
        }

        public (long Decided, long Batches, long BatchedFrames, TimeSpan InferenceTime, long Dropped) Snapshot() =>
            (Interlocked.Read(ref _decided), Interlocked.Read(ref _batches), Interlocked.Read(ref _batchedFrames), TimeSpan.FromTicks(Interlocked.Read(ref _inferenceTicks)), Interlocked.Read(ref _dropped));

        public void CameraStateChanged(string camera, string line, CameraState state)
        {
        }

        public void BatchScored(int frames, TimeSpan took)
        {
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _batchedFrames, frames);
            Interlocked.Add(ref _inferenceTicks, took.Ticks);
        }

        public void FramesDropped(string reason, int count) => Interlocked.Add(ref _dropped, count);

        public void PartialsResent(int count)
        {
        }

        public void FrameDecided(FrameDecided decided)
        {
            Interlocked.Increment(ref _decided);
            _first.TrySetResult();
            if (Recording)
            {
                var latency = (decided.DecidedAt - decided.Fused.CaptureTime).TotalSeconds;
                lock (_gate)
                {
                    _latencies.Add(latency);
                }
            }
        }

        public void FramesLost(string camera, long count)
        {
        }

        public void AlarmChanged(AlarmEvent alarm)
        {
        }

        public void CycleCompleted(string camera, string line, CycleRecord cycle)
        {
        }
    }

    /// <summary>A detector that costs nothing: zero residuals at once (what is left is the pipeline's own cost).</summary>
    private sealed class NoOpScorer : IFrameScorer
    {
        private static readonly DetectorVerdict Zero = new(0, new ResidualGrid(16, 16, 0f, new byte[16 * 16]), null);

        public string Detector => "noop";

        public ScoreCalibration Calibration { get; } = new(1, 0, 2, 99);

        public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Frame Image)> batch)
        {
            var verdicts = new DetectorVerdict[batch.Count];
            Array.Fill(verdicts, Zero);
            return verdicts;
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Lends a scorer to a plant's worker, which disposes what it is given: this one is disposed by its owner.</summary>
    private sealed class SharedScorer(IFrameScorer inner) : IFrameScorer
    {
        public string Detector => inner.Detector;

        public ScoreCalibration Calibration => inner.Calibration;

        public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Frame Image)> batch) => inner.Score(batch);

        public void Dispose()
        {
        }
    }
}
