using Confluent.Kafka;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

/// <summary>Fault injection on a broker of its own, so no other test sees the injected errors.</summary>
public sealed class CommitRetryTests
{
    [Fact]
    public async Task Commits_that_fail_with_RebalanceInProgress_are_retried_until_everything_acknowledged_is_committed()
    {
        using var broker = new EmbeddedBroker(brokers: 1);
        var id = Guid.NewGuid().ToString("N")[..8];
        var options = new KafkaOptions
        {
            FramesTopic = $"frames-{id}",
            AlarmsTopic = $"alarms-{id}",
            DeadLetterTopic = $"dlq-{id}",
            ConsumerGroup = $"workers-{id}",
            Partitions = 2,
            CommitIntervalMs = 100,
        };
        await TopicProvisioner.EnsureTopicsAsync(options, broker, CancellationToken.None);
        const int frames = 6;
        using (var sink = new KafkaFrameSink(options, broker.BootstrapServers))
        {
            for (var sequence = 0; sequence < frames; sequence++)
            {
                await sink.PublishAsync(KafkaTestKit.Metadata("cam-a", sequence), KafkaTestKit.Jpeg(sequence), CancellationToken.None);
            }
        }

        const short offsetCommit = 8;
        broker.FailNextRequests(offsetCommit, ErrorCode.RebalanceInProgress, ErrorCode.RebalanceInProgress, ErrorCode.RebalanceInProgress);
        var observer = new RecordingObserver();
        var collector = new FrameCollector();
        await using (var feed = new KafkaFrameFeed(options, broker.BootstrapServers, KafkaTestKit.CameraLines, TimeProvider.System, observer))
        {
            _ = feed.RunAsync(f => { collector.Add(f); feed.Acknowledge(f.Receipt); }, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => collector.Count == frames && observer.Commits > 0, TimeSpan.FromSeconds(20)), $"{collector.Count} frames, {observer.Commits} commits");
        }

        Assert.Contains(observer.Errors, e => e.StartsWith("commit:", StringComparison.Ordinal) && e.Contains("RebalanceInProgress", StringComparison.OrdinalIgnoreCase));
        using var probe = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = options.ConsumerGroup }).Build();
        var committed = probe.Committed([new TopicPartition(options.FramesTopic, 0), new TopicPartition(options.FramesTopic, 1)], TimeSpan.FromSeconds(10));
        Assert.Equal(frames, committed.Where(c => c.Offset != Offset.Unset).Sum(c => c.Offset.Value));
    }
}
