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
/// <c>streamanomaly</c> CLI: an embedded broker (<c>streamanomaly broker</c>), an aggregator node
/// (the seed), two worker nodes and an ingest node with four synthetic cameras on two lines.
/// One worker is killed hard mid-stream; the ingest node then leaves gracefully and the pipeline
/// drains. Checks exactly-once decisions after deduplication and an alarm after the failover.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class MultiProcessTests(ITestOutputHelper output) : IDisposable
{
    private const string LineA = "line-a";
    private const string LineB = "line-b";
    private const int Size = 64;
    private const double Fps = 5;

    // The detector's input: the 64 px frames are resized to 32 px, four times cheaper to train on
    // two shared cores while a foreign object beside the belt stays several pixels wide.
    private const int ModelSize = 32;

    private static readonly CameraOptions[] CamerasA = [Camera("line-a-cam1", 11), Camera("line-a-cam2", 12)];
    private static readonly CameraOptions[] CamerasB = [Camera("line-b-cam1", 21), Camera("line-b-cam2", 22)];

    private readonly string _root = Directory.CreateTempSubdirectory("multiproc-tests-").FullName;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<NodeProcess> _nodes = [];
    private readonly StringBuilder _timeline = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task Killing_a_worker_process_loses_no_frame_decides_each_once_and_still_raises_alarms()
    {
        var failed = true;
        try
        {
            await Run();
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

    private async Task Run()
    {
        var bundle = TrainBundle();
        Event($"bundle trained: {bundle}");

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

    private static CameraOptions Camera(string id, int seed) => new(id, $"synthetic:{seed}", Fps, Size, Size);

    /// <summary>
    /// Commissions an autoencoder bundle the way the stream demo does (trained on the very cameras'
    /// first normal seconds at 64 px), so the injected foreign object is far outside what it learnt.
    /// </summary>
    private string TrainBundle()
    {
        var footage = Commissioning.NormalFootage([.. CamerasA, .. CamerasB], seconds: 12);
        using var trained = Commissioning.Train(footage, CommissioningOptions.Autoencoder(ModelSize, epochs: 6, seconds: 12));
        var path = Path.Combine(_root, "autoencoder.sabundle");
        trained.Bundle.Save(path);
        return path;
    }

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

    private NodeInfo StartNode(string name, string roles, string config, string? seed, string? bundle)
    {
        var port = NodeProcess.FreePort();
        var http = NodeProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["STREAMANOMALY__NODE__PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["STREAMANOMALY__HTTP__LISTEN"] = $"127.0.0.1:{http}",
            ["STREAMANOMALY__HTTP__ANOMALYINJECTION"] = "true",
        };
        if (seed is not null)
        {
            environment["STREAMANOMALY__NODE__SEEDNODES__0"] = seed;
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
