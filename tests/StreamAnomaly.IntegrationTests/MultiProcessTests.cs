using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text;
using Confluent.Kafka;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using Xunit.Abstractions;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// The plant as separate operating-system processes on 127.0.0.1, each one the real
/// <c>streamanomaly</c> CLI: an embedded broker (<c>streamanomaly broker</c>), aggregator, worker
/// and ingest nodes with four synthetic cameras on two lines. One test kills a worker hard
/// mid-stream, the other the aggregator node holding a line with an active alarm; the ingest node
/// then leaves gracefully and the pipeline drains. Checks exactly-once decisions after
/// deduplication and the alarms across the failover.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class MultiProcessTests(ITestOutputHelper output, MultiProcessBundle trained) : IDisposable, IClassFixture<MultiProcessBundle>
{
    private const string LineA = "line-a";
    private const string LineB = "line-b";
    private const int Size = 64;
    private const double Fps = 5;

    // The detector's input: the 64 px frames are resized to 32 px, four times cheaper to train on
    // two shared cores while a foreign object beside the belt stays several pixels wide.
    internal const int ModelSize = 32;

    internal static readonly CameraOptions[] CamerasA = [Camera("line-a-cam1", 11), Camera("line-a-cam2", 12)];
    internal static readonly CameraOptions[] CamerasB = [Camera("line-b-cam1", 21), Camera("line-b-cam2", 22)];

    private readonly string _root = Directory.CreateTempSubdirectory("multiproc-tests-").FullName;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<NodeProcess> _nodes = [];
    private readonly StringBuilder _timeline = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public Task Killing_a_worker_process_loses_no_frame_decides_each_once_and_still_raises_alarms() => Logged(KillWorker);

    [Fact]
    public Task Killing_the_aggregator_node_mid_alarm_neither_loses_nor_repeats_the_alarm_and_decides_each_frame_once() => Logged(KillAggregator);

    /// <summary>Runs <paramref name="scenario"/>, then writes its timeline (and every node's output when it failed) to the test output.</summary>
    private async Task Logged(Func<Task> scenario)
    {
        var failed = true;
        try
        {
            await scenario();
            failed = false;
        }
        finally
        {
            foreach (var node in _nodes)
            {
                node.Dispose();
            }

            output.WriteLine(_timeline.ToString());
            if (failed)
            {
                foreach (var node in _nodes)
                {
                    output.WriteLine($"===== {node.Name} =====");
                    output.WriteLine(node.Output);
                }
            }
        }
    }

    private async Task KillWorker()
    {
        var bundle = trained.Path;

        // The broker, in its own process; everything else reaches it over TCP.
        var broker = Start("broker", ["broker"], new Dictionary<string, string>());
        var announced = await broker.WaitForLineAsync(static l => l.StartsWith("bootstrap servers: ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var bootstrap = announced["bootstrap servers: ".Length..].Trim();
        Event($"broker up at {bootstrap}");

        var config = WritePlantConfig(bootstrap);

        // The aggregator founds the cluster (no seeds); the others join it. It is never stopped, so
        // its deduplication memory spans the whole test.
        var aggregator = StartNode("aggregator", "aggregator", config, seed: null, bundle: null);
        await WaitReady(aggregator, TimeSpan.FromSeconds(60));
        var seed = aggregator.ClusterAddress;

        // Both workers join the consumer group before any frame exists.
        NodeInfo[] workers = [StartNode("worker-1", "worker", config, seed, bundle), StartNode("worker-2", "worker", config, seed, bundle)];
        await Task.WhenAll(workers.Select(w => WaitReady(w, TimeSpan.FromSeconds(60))));
        var ingest = StartNode("ingest", "ingest", config, seed, bundle: null);
        await WaitReady(ingest, TimeSpan.FromSeconds(60));

        // Frames flow until both lines have decisions and at least one worker has scored a few dozen.
        await Until("frames decided on both lines", TimeSpan.FromSeconds(60), async () =>
        {
            var m = await Scrape(aggregator);
            return PrometheusText.Sum(m, "streamanomaly_frames_decided_total", $"line=\"{LineA}\"") >= 10
                && PrometheusText.Sum(m, "streamanomaly_frames_decided_total", $"line=\"{LineB}\"") >= 10;
        });
        await Snapshot("flowing", aggregator, workers);

        // Kill (SIGKILL) the busier worker: the one whose partitions hold frames in flight.
        var scored = new double[workers.Length];
        for (var i = 0; i < workers.Length; i++)
        {
            scored[i] = PrometheusText.Sum(await Scrape(workers[i]), "streamanomaly_frames_scored_total");
        }

        var victimIndex = scored[0] >= scored[1] ? 0 : 1;
        var victim = workers[victimIndex];
        var survivor = workers[1 - victimIndex];
        Event($"frames scored: {workers[0].Process.Name} {scored[0]}, {workers[1].Process.Name} {scored[1]}; killing {victim.Process.Name}");
        var decidedAtKill = await DecidedByLine(aggregator);
        victim.Process.Kill();
        await victim.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var killedAt = _clock.Elapsed;
        Event($"{victim.Process.Name} killed; decided so far {Describe(decidedAtKill)}");

        // An anomaly on line B after the kill: it must reach an alarm through the surviving worker.
        var alarmsBefore = PrometheusText.Sum(await Scrape(aggregator), "streamanomaly_alarms_raised_total", $"line=\"{LineB}\"");
        foreach (var camera in CamerasB)
        {
            using var response = await _http.PostAsync(new Uri(ingest.Status, $"cameras/{camera.Id}/anomalies?kind=foreign-object-beside-belt"), null);
            Assert.True(response.IsSuccessStatusCode, $"injection on {camera.Id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Event("anomaly injected on line-b (both cameras)");

        // Failover: the consumer group hands the victim's partitions to the survivor, whose feed
        // then reports lag for every partition holding frames (a feed reports lag only where it has
        // a position, so empty partitions never show); both lines keep deciding.
        var partitions = PartitionsWithFrames(bootstrap);
        await Until("the survivor consuming every partition that holds frames", TimeSpan.FromSeconds(60), async () =>
            PrometheusText.Count(await Scrape(survivor), "streamanomaly_consumer_lag_messages") >= partitions);
        Event($"{survivor.Process.Name} consumes all {partitions} partitions holding frames {(_clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill");
        await Until("both lines decide frames again after the kill", TimeSpan.FromSeconds(60), async () =>
        {
            var now = await DecidedByLine(aggregator);
            return now[LineA] >= decidedAtKill[LineA] + 10 && now[LineB] >= decidedAtKill[LineB] + 10;
        });
        Event($"both lines decided 10+ more frames {(_clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill");
        await Snapshot("after failover", aggregator, [survivor]);

        await Until("an alarm raised on line-b", TimeSpan.FromSeconds(60), async () =>
            PrometheusText.Sum(await Scrape(aggregator), "streamanomaly_alarms_raised_total", $"line=\"{LineB}\"") > alarmsBefore);
        Event($"alarm raised on line-b {(_clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill");

        // Stop producing: the ingest node leaves gracefully (SIGTERM).
        var ingestedBeforeStop = PrometheusText.Sum(await Scrape(ingest), "streamanomaly_frames_ingested_total");
        var stopAt = _clock.Elapsed;
        Event("SIGTERM to the ingest node");
        var exit = await ingest.Process.TerminateAsync(TimeSpan.FromSeconds(60));
        Event($"ingest node left (exit code {exit}) after {(_clock.Elapsed - stopAt).TotalSeconds:F1} s; it had counted {ingestedBeforeStop} frames before the SIGTERM");
        Assert.Equal(0, exit);

        var published = FramesOnTopic(bootstrap);
        Event($"frames on the topic (sum of high watermarks): {published}");
        Assert.True(published >= ingestedBeforeStop, $"topic holds {published} frames, the ingest node had counted {ingestedBeforeStop}");

        // Drain: the aggregator's count of decided frames climbs to the published count and stays there.
        var drainStart = stopAt;
        double decided = 0;
        await Until($"the aggregator decided all {published} frames", TimeSpan.FromSeconds(60), async () =>
        {
            var now = PrometheusText.Sum(await Scrape(aggregator), "streamanomaly_frames_decided_total");
            Assert.True(now <= published, $"{now} frames decided, only {published} published: a frame was decided twice");
            decided = now;
            return decided == published;
        });
        Event($"drained {(_clock.Elapsed - drainStart).TotalSeconds:F1} s after the SIGTERM to the ingest node");

        // Every offset is committed once acknowledged: a restarted worker would not see a frame again.
        await Until("the workers' group committed every frame", TimeSpan.FromSeconds(30), () => Task.FromResult(CommittedFrames(bootstrap) == published));
        Event($"consumer group 'workers' committed all {published} offsets {(_clock.Elapsed - drainStart).TotalSeconds:F1} s after the SIGTERM");

        // Stays exact: no late duplicate (a resend, a redelivery after a commit lag) counts again.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var final = await Snapshot("final", aggregator, [survivor]);
        Assert.Equal(published, PrometheusText.Sum(final, "streamanomaly_frames_decided_total"));
        Assert.Equal(0, PrometheusText.Sum(final, "streamanomaly_frames_dropped_total"));

        // An independent client sees the alarm on the alarms topic.
        var alarms = await Kcat(bootstrap, "alarms");
        Event($"alarms topic:{Environment.NewLine}{alarms.TrimEnd()}");
        var raised = alarms.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(static l => JsonDocument.Parse(l[(l.IndexOf('\t', StringComparison.Ordinal) + 1)..]).RootElement)
            .Where(static a => a.GetProperty("phase").GetString() == "raised")
            .Select(static a => a.GetProperty("line").GetString())
            .ToList();
        Assert.Contains(LineB, raised);
    }

    private async Task KillAggregator()
    {
        var broker = Start("broker", ["broker"], new Dictionary<string, string>());
        var announced = await broker.WaitForLineAsync(static l => l.StartsWith("bootstrap servers: ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var bootstrap = announced["bootstrap servers: ".Length..].Trim();
        Event($"broker up at {bootstrap}");
        var config = WritePlantConfig(bootstrap);

        // Both aggregators keep the lines' journals in one SQLite file (nodes on one machine; a
        // plant would give them PostgreSQL). No snapshots: the journal then holds every decision,
        // and the test reads them back to count each frame's decisions.
        var journal = Path.Combine(_root, "journal.db");
        var aggregation = new Dictionary<string, string>
        {
            ["STREAMANOMALY__JOURNAL__PROVIDER"] = "sqlite",
            ["STREAMANOMALY__JOURNAL__PATH"] = journal,
            ["STREAMANOMALY__AGGREGATION__SNAPSHOTEVERY"] = "100000000",
        };

        // Every node lists both aggregators as seeds: the first founds the cluster (after asking
        // the other for a few seconds), and either, restarted, joins the cluster the others kept.
        int[] ports = [NodeProcess.FreePort(), NodeProcess.FreePort()];
        string[] seeds = [.. ports.Select(static p => $"127.0.0.1:{p}")];
        NodeInfo StartAggregator(int i) => StartNode($"aggregator-{i + 1}", "aggregator", config, seeds, bundle: null, aggregation, ports[i]);
        NodeInfo[] aggregators = [StartAggregator(0)];
        await WaitReady(aggregators[0], TimeSpan.FromSeconds(60));
        aggregators = [aggregators[0], StartAggregator(1)];
        await WaitReady(aggregators[1], TimeSpan.FromSeconds(60));
        var worker = StartNode("worker", "worker", config, seeds, trained.Path, settings: null, NodeProcess.FreePort());
        await WaitReady(worker, TimeSpan.FromSeconds(60));
        var ingest = StartNode("ingest", "ingest", config, seeds, bundle: null, settings: null, NodeProcess.FreePort());
        await WaitReady(ingest, TimeSpan.FromSeconds(60));

        async Task<double> Decided(NodeInfo aggregator, string line) =>
            PrometheusText.Sum(await Scrape(aggregator), "streamanomaly_frames_decided_total", $"line=\"{line}\"");
        await Until("frames decided on both lines", TimeSpan.FromSeconds(60), async () =>
            (await Decided(aggregators[0], LineA)) + (await Decided(aggregators[1], LineA)) >= 10
            && (await Decided(aggregators[0], LineB)) + (await Decided(aggregators[1], LineB)) >= 10);
        var hostIndex = await Decided(aggregators[0], LineB) > 0 ? 0 : 1;
        var (host, survivor) = (aggregators[hostIndex], aggregators[1 - hostIndex]);
        Event($"{LineB} is decided on {host.Process.Name}");

        foreach (var camera in CamerasB)
        {
            using var response = await _http.PostAsync(new Uri(ingest.Status, $"cameras/{camera.Id}/anomalies?kind=foreign-object-beside-belt"), null);
            Assert.True(response.IsSuccessStatusCode, $"injection on {camera.Id}: {(int)response.StatusCode}");
        }

        Event($"anomaly injected on {LineB} (both cameras)");
        await Until($"an alarm raised on {LineB}", TimeSpan.FromSeconds(60), async () =>
            PrometheusText.Sum(await Scrape(host), "streamanomaly_alarms_raised_total", $"line=\"{LineB}\"") >= 1);

        // Mid-alarm: the raise is decided and written to the journal (its Kafka publication may or
        // may not have happened), the anomaly and the clear are still to come.
        host.Process.Kill();
        await host.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var killedAt = _clock.Elapsed;
        Event($"alarm raised on {LineB}; {host.Process.Name} killed");

        await Until($"{survivor.Process.Name} deciding {LineB}", TimeSpan.FromSeconds(90), async () => await Decided(survivor, LineB) > 0);
        var failover = _clock.Elapsed - killedAt;
        Event($"failover: {survivor.Process.Name} decides {LineB} {failover.TotalSeconds:F1} s after the kill");
        output.WriteLine($"aggregator failover time (kill -> first decision on the other node): {failover.TotalSeconds:F1} s");

        // The killed node, started again as it was, joins the cluster the others kept (no island
        // of its own, even when it was the first seed): the survivor counts two aggregators again.
        var restarted = StartAggregator(hostIndex);
        await WaitReady(restarted, TimeSpan.FromSeconds(60));
        await Until($"{restarted.Process.Name} back in the plant's cluster", TimeSpan.FromSeconds(60), async () =>
            PrometheusText.Sum(await Scrape(survivor), "streamanomaly_cluster_members", "role=\"aggregator\"") == 2);
        Event($"{restarted.Process.Name} restarted and rejoined the cluster {(_clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill");

        // The alarm the killed node raised is cleared by the node that took the line over.
        await Until($"the alarm on {LineB} cleared", TimeSpan.FromSeconds(60), async () =>
            (await AlarmsOf(bootstrap, LineB)).Any(static a => a.GetProperty("phase").GetString() == "cleared"));
        Event($"the first alarm on {LineB} cleared");

        var stopAt = _clock.Elapsed;
        Assert.Equal(0, await ingest.Process.TerminateAsync(TimeSpan.FromSeconds(60)));
        var published = FramesOnTopic(bootstrap);
        Event($"ingest node left; {published} frames on the topic");

        // Every frame decided exactly once, over both aggregators' lives: the journal is the record.
        List<LineDecision> decisions = [];
        await Until($"the journal holds all {published} frames' decisions", TimeSpan.FromSeconds(90), async () =>
        {
            decisions = await JournalDecisions(journal);
            return decisions.Count >= published;
        });
        Event($"drained {(_clock.Elapsed - stopAt).TotalSeconds:F1} s after the SIGTERM to the ingest node");
        var twice = decisions.GroupBy(static d => d.Frame).Where(static g => g.Count() > 1).Select(static g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"decided more than once: {string.Join(", ", twice.Take(10))}");
        Assert.Equal(published, decisions.Count);
        await Until("the workers' group committed every frame", TimeSpan.FromSeconds(30), () => Task.FromResult(CommittedFrames(bootstrap) == published));

        // Line B's alarms (the anomaly may give more than one episode): each raised once (revision
        // 0), its revisions consecutive, cleared last (the newest may still be active when the
        // cameras stop); none raised while another is active (a line that forgot its alarm would
        // raise the ongoing anomaly again under a new id and never clear the first). A repeat of an
        // event whose confirmation died with the node carries the same idempotency key and is read
        // once here.
        var events = (await AlarmsOf(bootstrap, LineB))
            .Select(static a => (Id: a.GetProperty("alarmId").GetString()!, Revision: a.GetProperty("revision").GetInt32(), Phase: a.GetProperty("phase").GetString()!))
            .Distinct().ToList();
        Event($"{LineB} alarm events: {string.Join(", ", events.Select(static e => $"{e.Id}/{e.Revision} {e.Phase}"))}");
        Assert.NotEmpty(events);
        string? active = null;
        foreach (var e in events)
        {
            Assert.True(e.Phase != "raised" || active is null, $"alarm {e.Id} raised while {active} was active");
            active = e.Phase == "cleared" ? null : e.Id;
        }

        Assert.All(events.GroupBy(static e => e.Id), alarm =>
        {
            Assert.Equal(Enumerable.Range(0, alarm.Count()), alarm.Select(static e => e.Revision));
            Assert.Equal("raised", alarm.First().Phase);
            Assert.True(alarm.Key == active || alarm.Last().Phase == "cleared", $"alarm {alarm.Key} was never cleared, yet a later one was raised");
        });
    }

    /// <summary>The decisions in a SQLite journal, decoded by the plant's serializer.</summary>
    private static async Task<List<LineDecision>> JournalDecisions(string path)
    {
        var serializer = new Cluster.PlantMessageSerializer(null!);
        await using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly");
        await sqlite.OpenAsync();
        await using var query = sqlite.CreateCommand();
        query.CommandText = "SELECT message FROM journal WHERE manifest = 'LD'";
        var decisions = new List<LineDecision>();
        await using var rows = await query.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            decisions.Add((LineDecision)serializer.FromBinary((byte[])rows[0], "LD"));
        }

        return decisions;
    }

    /// <summary>The alarm events of <paramref name="line"/> on the alarms topic, in the order read.</summary>
    private static async Task<List<JsonElement>> AlarmsOf(string bootstrap, string line) =>
        (await Kcat(bootstrap, "alarms")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(static l => JsonDocument.Parse(l[(l.IndexOf('\t', StringComparison.Ordinal) + 1)..]).RootElement)
            .Where(a => a.GetProperty("line").GetString() == line)
            .ToList();

    private static CameraOptions Camera(string id, int seed) => new(id, $"synthetic:{seed}", Fps, Size, Size);

    private string WritePlantConfig(string bootstrap)
    {
        var plant = new
        {
            Kafka = new { BootstrapServers = bootstrap },
            Worker = new
            {
                // Exactly-once accounting needs every frame scored: no newest-frame-wins drops
                // (the feed's MaxInFlight of 64 still bounds what a worker holds).
                MaxQueuedPerLiveCamera = 64,
                AckTimeout = "00:00:02",
            },
            Lines = new[]
            {
                new { Id = LineA, Cameras = CamerasA.Select(static c => new { c.Id, c.Source, c.Fps, c.Width, c.Height }).ToArray() },
                new { Id = LineB, Cameras = CamerasB.Select(static c => new { c.Id, c.Source, c.Fps, c.Width, c.Height }).ToArray() },
            },
        };
        var path = Path.Combine(_root, "plant.json");
        File.WriteAllText(path, JsonSerializer.Serialize(plant));
        return path;
    }

    private NodeProcess Start(string name, string[] args, Dictionary<string, string> environment)
    {
        var node = NodeProcess.Start(name, args, environment, _root, _clock);
        _nodes.Add(node);
        return node;
    }

    private NodeInfo StartNode(string name, string roles, string config, string? seed, string? bundle, IReadOnlyDictionary<string, string>? settings = null) =>
        StartNode(name, roles, config, seed is null ? [] : [seed], bundle, settings, NodeProcess.FreePort());

    private NodeInfo StartNode(string name, string roles, string config, string[] seeds, string? bundle, IReadOnlyDictionary<string, string>? settings, int port)
    {
        var http = NodeProcess.FreePort();
        var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["STREAMANOMALY__NODE__PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["STREAMANOMALY__HTTP__LISTEN"] = $"127.0.0.1:{http}",
            ["STREAMANOMALY__HTTP__ANOMALYINJECTION"] = "true",
        };
        for (var i = 0; i < seeds.Length; i++)
        {
            environment[$"STREAMANOMALY__NODE__SEEDNODES__{i}"] = seeds[i];
        }

        if (bundle is not null)
        {
            environment["STREAMANOMALY__WORKER__BUNDLES__0"] = bundle;
        }

        var process = Start(name, ["run", "--roles", roles, "--config", config], environment);
        return new NodeInfo(process, $"127.0.0.1:{port}", new Uri($"http://127.0.0.1:{http}/"));
    }

    private async Task WaitReady(NodeInfo node, TimeSpan timeout)
    {
        await Until($"{node.Process.Name} ready", timeout, async () =>
        {
            if (node.Process.HasExited)
            {
                throw new InvalidOperationException($"{node.Process.Name} exited with code {node.Process.ExitCode}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri(node.Status, "readyz"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });
        Event($"{node.Process.Name} ready (cluster {node.ClusterAddress}, status {node.Status})");
    }

    private async Task<string> Scrape(NodeInfo node) => await _http.GetStringAsync(new Uri(node.Status, "metrics"));

    private async Task<Dictionary<string, double>> DecidedByLine(NodeInfo aggregator)
    {
        var m = await Scrape(aggregator);
        return new Dictionary<string, double>
        {
            [LineA] = PrometheusText.Sum(m, "streamanomaly_frames_decided_total", $"line=\"{LineA}\""),
            [LineB] = PrometheusText.Sum(m, "streamanomaly_frames_decided_total", $"line=\"{LineB}\""),
        };
    }

    private static string Describe(Dictionary<string, double> byLine) => string.Join(", ", byLine.Select(static p => $"{p.Key} {p.Value}"));

    private async Task<string> Snapshot(string label, NodeInfo aggregator, IEnumerable<NodeInfo> workers)
    {
        var a = await Scrape(aggregator);
        var text = new StringBuilder($"{label}: decided {PrometheusText.Sum(a, "streamanomaly_frames_decided_total")}, alarms {PrometheusText.Sum(a, "streamanomaly_alarms_raised_total")}");
        var dropped = 0.0;
        foreach (var worker in workers)
        {
            var w = await Scrape(worker);
            dropped += PrometheusText.Sum(w, "streamanomaly_frames_dropped_total");
            text.Append(CultureInfo.InvariantCulture, $"; {worker.Process.Name}: consumed {PrometheusText.Sum(w, "streamanomaly_frames_consumed_total")}, scored {PrometheusText.Sum(w, "streamanomaly_frames_scored_total")}, resent {PrometheusText.Sum(w, "streamanomaly_partials_resent_total")}, dropped {PrometheusText.Sum(w, "streamanomaly_frames_dropped_total")}, kafka errors {PrometheusText.Sum(w, "streamanomaly_kafka_client_errors_total")}, dead letters {PrometheusText.Sum(w, "streamanomaly_dead_letters_total")}");
        }

        Event(text.ToString());
        return a + $"\nstreamanomaly_frames_dropped_total {dropped.ToString(CultureInfo.InvariantCulture)}\n";
    }

    /// <summary>Messages on the frames topic: the sum over partitions of the high watermarks (the topic is new, nothing is deleted).</summary>
    private static long FramesOnTopic(string bootstrap)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var topic = admin.GetMetadata("frames", TimeSpan.FromSeconds(10)).Topics.Single();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "multiproc-test-watermarks" }).Build();
        long total = 0;
        foreach (var partition in topic.Partitions)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition("frames", partition.PartitionId), TimeSpan.FromSeconds(10));
            Assert.Equal(0, marks.Low.Value);
            total += marks.High.Value;
        }

        return total;
    }

    private static int PartitionsWithFrames(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "multiproc-test-watermarks" }).Build();
        return Enumerable.Range(0, TopicPartitions(bootstrap))
            .Count(p => consumer.QueryWatermarkOffsets(new TopicPartition("frames", p), TimeSpan.FromSeconds(10)).High.Value > 0);
    }

    private static int TopicPartitions(string bootstrap)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        return admin.GetMetadata("frames", TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
    }

    /// <summary>The sum over the frames topic's partitions of the offsets group "workers" committed (0 where none).</summary>
    private static long CommittedFrames(string bootstrap)
    {
        var partitions = TopicPartitions(bootstrap);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "workers" }).Build();
        var committed = consumer.Committed(Enumerable.Range(0, partitions).Select(static p => new TopicPartition("frames", p)), TimeSpan.FromSeconds(10));
        return committed.Sum(static c => c.Offset.Value >= 0 ? c.Offset.Value : 0);
    }

    /// <summary>A topic read from the beginning by Debian's kcat: "key TAB value" per message.</summary>
    private static async Task<string> Kcat(string bootstrap, string topic)
    {
        var info = new ProcessStartInfo("kcat") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n" })
        {
            info.ArgumentList.Add(arg);
        }

        using var kcat = Process.Start(info) ?? throw new InvalidOperationException("could not run kcat");
        var stdout = kcat.StandardOutput.ReadToEndAsync();
        var stderr = kcat.StandardError.ReadToEndAsync();
        try
        {
            await kcat.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            kcat.Kill();
            throw;
        }

        Assert.True(kcat.ExitCode == 0, $"kcat exited with {kcat.ExitCode}: {await stderr}");
        return await stdout;
    }

    private async Task Until(string what, TimeSpan timeout, Func<Task<bool>> condition)
    {
        var deadline = _clock.Elapsed + timeout;
        while (!await condition())
        {
            if (_clock.Elapsed > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    private void Event(string text)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,7:F2} s] {text}");
        _timeline.AppendLine(line);
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // a killed process may still hold a file for a moment
        }
    }

    private sealed record NodeInfo(NodeProcess Process, string ClusterAddress, Uri Status);
}

/// <summary>
/// The autoencoder bundle both multi-process tests run, commissioned once the way the stream demo
/// does (trained on the very cameras' first normal seconds), so the injected foreign object is far
/// outside what it learnt.
/// </summary>
public sealed class MultiProcessBundle : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("multiproc-bundle-").FullName;

    public MultiProcessBundle()
    {
        var footage = Commissioning.NormalFootage([.. MultiProcessTests.CamerasA, .. MultiProcessTests.CamerasB], seconds: 12);
        using var trained = Commissioning.Train(footage, CommissioningOptions.Autoencoder(MultiProcessTests.ModelSize, epochs: 6, seconds: 12));
        Path = System.IO.Path.Combine(_folder, "autoencoder.sabundle");
        trained.Bundle.Save(Path);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
