using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Tests.Clips;
using Xunit.Abstractions;

namespace StreamAnomaly.Ingest.Tests.Kafka;

/// <summary>
/// The embedded broker drops a partition's oldest messages beyond about 5 MiB, silently. A worker
/// that was away while more was produced finds a gap; the aggregation counts it.
/// </summary>
public sealed class BrokerRetentionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Frames_the_broker_dropped_while_the_worker_was_away_are_all_counted_as_lost()
    {
        const int before = 10, away = 1500;
        var options = KafkaTestKit.FreshOptions(partitions: 1);
        var aggregation = new LineAggregation("line-1", AggregationOptions.Default, new Dictionary<string, double> { ["cam-a"] = 5 });
        var events = new List<LineEvent>();

        await Publish(options, 0, before);
        await Consume(options, before, aggregation, events); // the worker decides frames 0..9, commits, goes away
        await Publish(options, before, away);                 // ~7 KB each, 10 MB: more than the broker keeps

        var oldestKept = Watermarks(options).Low;
        Assert.True(oldestKept > before, $"the broker kept every frame (low watermark {oldestKept}): nothing to lose");
        var left = before + away - (int)oldestKept;
        await Consume(options, left, aggregation, events);    // the worker is back: it finds what is left

        var lost = events.OfType<FramesLost>().Sum(l => l.Count);
        var decided = events.OfType<FrameDecided>().Count();
        var bytes = Enumerable.Range(0, 20).Average(s => ImageCodec.EncodeJpeg(TestImages.Random(96, 64, s)).Length);
        output.WriteLine($"{away} frames of about {bytes:F0} bytes sent while the worker was away: {oldestKept - before} dropped by the broker, {lost} counted lost, {decided} decided in all");
        Assert.Equal(oldestKept - before, lost);
        Assert.Equal(before + away, decided + lost);
    }

    private static async Task Publish(KafkaOptions options, int first, int count)
    {
        using var sink = new KafkaFrameSink(options, KafkaTestKit.Bootstrap);
        await Task.WhenAll(Enumerable.Range(first, count).Select(s =>
            sink.PublishAsync(KafkaTestKit.Metadata("cam-a", s, 96, 64), ImageCodec.EncodeJpeg(TestImages.Random(96, 64, s)), CancellationToken.None)));
    }

    /// <summary>Runs a feed until <paramref name="count"/> frames came, aggregating and acknowledging each; disposing commits them.</summary>
    private static async Task Consume(KafkaOptions options, int count, LineAggregation aggregation, List<LineEvent> events)
    {
        var collector = new FrameCollector();
        await using (var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System))
        {
            _ = feed.RunAsync(f => { collector.Add(f); feed.Acknowledge(f.Receipt); }, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => collector.Count >= count, Patience), $"{collector.Count} of {count} frames arrived");
        }

        foreach (var frame in collector.Frames)
        {
            var metadata = frame.Metadata;
            var partial = new PartialResult(metadata.Key, metadata.Line, metadata.CaptureTime, "test", 1, 1, new ScoreCalibration(10, 0, 20, 99), new ResidualGrid(1, 1, 1, [255]), null);
            events.AddRange(aggregation.Apply(partial, metadata.CaptureTime));
        }
    }

    private static (long Low, long High) Watermarks(KafkaOptions options)
    {
        using var consumer = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = KafkaTestKit.Bootstrap, GroupId = "watermarks-" + Guid.NewGuid().ToString("N") }).Build();
        var w = consumer.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition(options.FramesTopic, 0), TimeSpan.FromSeconds(5));
        return (w.Low.Value, w.High.Value);
    }
}
