using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class KafkaOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_use_the_embedded_broker()
    {
        var options = new KafkaOptions();

        Assert.Empty(options.Validate());
        Assert.True(options.UsesEmbeddedBroker);
        Assert.Equal(("frames", "alarms", "frames.dlq", 16, 2 * 1024 * 1024), (options.FramesTopic, options.AlarmsTopic, options.DeadLetterTopic, options.Partitions, options.MaxMessageBytes));
    }

    [Theory]
    [InlineData("Kafka:Partitions must be >= 1, got 0")]
    [InlineData("Kafka:MaxInFlight must be >= 1, got -3")]
    [InlineData("Kafka:MaxMessageBytes must be in 1024..67108864 bytes, got 100")]
    [InlineData("Kafka:HeartbeatIntervalMs must be >= 1 ms and below Kafka:SessionTimeoutMs (6000), got 6000")]
    [InlineData("Kafka:CommitIntervalMs must be >= 10 ms, got 0")]
    [InlineData("Kafka:ReplicationFactor must be >= 1, got 0")]
    [InlineData("Kafka:FramesTopic must be 1..249 characters of letters, digits, '.', '_' and '-', got 'frames topic'")]
    [InlineData("Kafka:ConsumerGroup must be 1..255 characters of letters, digits, '.', '_' and '-', got ''")]
    public void Each_invalid_value_is_reported_naming_its_key(string expected)
    {
        var options = new KafkaOptions
        {
            Partitions = 0,
            MaxInFlight = -3,
            MaxMessageBytes = 100,
            HeartbeatIntervalMs = 6000,
            CommitIntervalMs = 0,
            ReplicationFactor = 0,
            FramesTopic = "frames topic",
            ConsumerGroup = string.Empty,
        };

        Assert.Contains(expected, options.Validate());
        Assert.Equal(8, options.Validate().Count);
    }

    [Fact]
    public void Topics_must_differ()
    {
        var errors = new KafkaOptions { DeadLetterTopic = "frames" }.Validate();

        Assert.Single(errors);
        Assert.StartsWith("Kafka:FramesTopic, AlarmsTopic and DeadLetterTopic must be three different topics", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureValid_throws_with_every_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new KafkaOptions { Partitions = 0, MaxInFlight = 0 }.EnsureValid());

        Assert.Contains("Kafka:Partitions", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Kafka:MaxInFlight", ex.Message, StringComparison.Ordinal);
    }
}
