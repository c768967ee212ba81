using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Tests.Clips;

namespace StreamAnomaly.Ingest.Tests.Kafka;

/// <summary>
/// One embedded broker for the whole test run (it lives until the process ends) and helpers to
/// give each test its own topics and consumer group, so test classes run in parallel.
/// </summary>
internal static class KafkaTestKit
{
    private static readonly Lazy<EmbeddedBroker> SharedBroker = new(() => new EmbeddedBroker());

    public static EmbeddedBroker Broker => SharedBroker.Value;

    public static string Bootstrap => Broker.BootstrapServers;

    /// <summary>Plant of the tests: cam-a and cam-b on line-1, cam-c on line-2.</summary>
    public static IReadOnlyDictionary<string, string> CameraLines { get; } = KafkaFrameFeed.CameraLines(
    [
        new LineOptions("line-1", [new CameraOptions("cam-a", "synthetic:1"), new CameraOptions("cam-b", "synthetic:2")]),
        new LineOptions("line-2", [new CameraOptions("cam-c", "synthetic:3")]),
    ]);

    /// <summary>Options with fresh topic and group names (created in the broker) and a short commit interval.</summary>
    public static KafkaOptions FreshOptions(int partitions = 4, int maxInFlight = 64, int maxMessageBytes = 2 * 1024 * 1024)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var options = new KafkaOptions
        {
            FramesTopic = $"frames-{id}",
            AlarmsTopic = $"alarms-{id}",
            DeadLetterTopic = $"frames.dlq-{id}",
            ConsumerGroup = $"workers-{id}",
            Partitions = partitions,
            MaxInFlight = maxInFlight,
            MaxMessageBytes = maxMessageBytes,
            CommitIntervalMs = 100,
        };
        foreach (var (name, _) in TopicProvisioner.Topics(options))
        {
            Broker.CreateTopic(name, partitions);
        }

        return options;
    }

    public static FrameMetadata Metadata(string camera, long sequence, int width = 64, int height = 48, string? line = null) =>
        new(camera, line ?? CameraLines[camera], sequence, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + (sequence * 200)), width, height);

    public static Frame Image(long sequence, int width = 64, int height = 48) => TestImages.Smooth(width, height, (int)sequence);

    public static byte[] Jpeg(long sequence, int width = 64, int height = 48) => ImageCodec.EncodeJpeg(Image(sequence, width, height));

    /// <summary>A producer that sends anything (no header checks, large record limit).</summary>
    public static IProducer<byte[], byte[]> RawProducer() =>
        new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Bootstrap, LingerMs = 2, MessageMaxBytes = 8 * 1024 * 1024 }).Build();

    /// <summary>Reads <paramref name="count"/> messages of a topic from the beginning (all partitions), or fewer when the timeout passes.</summary>
    public static List<ConsumeResult<byte[], byte[]>> ReadTopic(string topic, int partitions, int count, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<byte[], byte[]>>();
        var watch = Stopwatch.StartNew();
        while (results.Count < count && watch.Elapsed < timeout)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result?.Message is not null)
            {
                results.Add(result);
            }
        }

        consumer.Close();
        return results;
    }

    /// <summary>Messages in a topic (sum over partitions of high minus low watermark), asked of the brokers.</summary>
    public static long MessageCount(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "count-" + Guid.NewGuid().ToString("N") }).Build();
        return Enumerable.Range(0, partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(5)))
            .Sum(w => w.High.Value - w.Low.Value);
    }

    public static string? HeaderText(ConsumeResult<byte[], byte[]> result, string name) => FrameHeaders.GetText(result.Message.Headers, name);

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds or the timeout passes; returns its last value.</summary>
    public static async Task<bool> Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                return condition();
            }

            await Task.Delay(20);
        }

        return true;
    }

    /// <summary>Runs kcat with the arguments; returns its standard output. Fails the test when kcat is missing, fails or runs past the timeout.</summary>
    public static async Task<string> Kcat(TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("kcat") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("kcat did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("kcat is not installed: run scripts/ensure-deps.sh --test", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"kcat {string.Join(' ', arguments)} ran past {timeout}; stderr: {await stderr}");
            }

            Assert.True(process.ExitCode == 0, $"kcat {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}");
            return await stdout;
        }
    }
}

/// <summary>Collects the frames a feed hands out (thread-safe).</summary>
internal sealed class FrameCollector
{
    private readonly ConcurrentQueue<IncomingFrame> _frames = new();

    public void Add(IncomingFrame frame) => _frames.Enqueue(frame);

    public int Count => _frames.Count;

    public IncomingFrame[] Frames => [.. _frames];
}

/// <summary>Counts what a feed reports (thread-safe).</summary>
internal sealed class RecordingObserver : IKafkaObserver
{
    private readonly ConcurrentDictionary<string, int> _deadLettered = new();
    private int _consumed;
    private int _deadLetteredTotal;
    private int _commits;

    public int Consumed => Volatile.Read(ref _consumed);

    public int DeadLetteredTotal => Volatile.Read(ref _deadLetteredTotal);

    public int Commits => Volatile.Read(ref _commits);

    public ConcurrentQueue<(int Partition, long Lag)> Lags { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    public int DeadLetteredFor(string reason) => _deadLettered.GetValueOrDefault(reason);

    public void FrameConsumed(FrameMetadata metadata) => Interlocked.Increment(ref _consumed);

    public void DeadLettered(string reason, string detail)
    {
        _deadLettered.AddOrUpdate(reason, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _deadLetteredTotal);
    }

    public void ConsumerLag(int partition, long lag) => Lags.Enqueue((partition, lag));

    public void Committed(int partition, long offset) => Interlocked.Increment(ref _commits);

    public void ClientError(string operation, string error) => Errors.Enqueue($"{operation}: {error}");
}
