using System.Globalization;
using Confluent.Kafka;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// The librdkafka settings shared by this project's clients, derived from <see cref="KafkaOptions"/>;
/// every client (producer, consumer, admin) gets <see cref="KafkaOptions.Security"/>.
/// </summary>
internal static class KafkaClientConfig
{
    /// <summary>
    /// An idempotent producer (acks=all, enable.idempotence, 2 ms linger) whose record limit is
    /// <paramref name="maxRecordBytes"/> (key, headers and value together).
    /// </summary>
    public static ProducerConfig Producer(KafkaOptions options, string bootstrapServers, int maxRecordBytes, string clientId)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = clientId,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 2,
            MessageMaxBytes = maxRecordBytes,
            // A request must hold at least one whole record.
            BatchSize = Math.Max(1_000_000, maxRecordBytes),
        };
        options.Security.ApplyTo(config);
        return config;
    }

    /// <summary>
    /// A group consumer that never commits by itself and starts at the earliest offset when the
    /// group has no committed position (no frame is skipped).
    /// </summary>
    public static ConsumerConfig Consumer(KafkaOptions options, string bootstrapServers, string clientId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = clientId,
            GroupId = options.ConsumerGroup,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = options.SessionTimeoutMs,
            HeartbeatIntervalMs = options.HeartbeatIntervalMs,
            FetchWaitMaxMs = options.FetchWaitMaxMs,
            // Frames are large: do not prefetch more than a few per partition.
            MaxPartitionFetchBytes = Math.Max(options.MaxRecordBytes, 1024 * 1024),
            QueuedMaxMessagesKbytes = Math.Max(16 * 1024, 4 * options.MaxRecordBytes / 1024),
        };
        options.Security.ApplyTo(config);
        return config;
    }

    /// <summary>An admin client of <see cref="KafkaOptions.BootstrapServers"/> (topic creation).</summary>
    public static AdminClientConfig Admin(KafkaOptions options)
    {
        var config = new AdminClientConfig { BootstrapServers = options.BootstrapServers };
        options.Security.ApplyTo(config);
        return config;
    }

    public static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
