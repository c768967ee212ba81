using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// What the Kafka clients report for metrics and logs (the host implements it with Prometheus
/// counters). Called from the feed's consume thread and from librdkafka's delivery-report
/// thread: implementations must be thread-safe, fast and must not throw.
/// </summary>
public interface IKafkaObserver
{
    /// <summary>A valid frame was handed to the worker.</summary>
    void FrameConsumed(FrameMetadata metadata);

    /// <summary>A refused message reached the dead-letter topic; <paramref name="reason"/> is one of <see cref="DeadLetterReasons"/>.</summary>
    void DeadLettered(string reason, string detail);

    /// <summary>Consumer lag of a frames partition: high watermark minus the consumer position, in messages (&gt;= 0).</summary>
    void ConsumerLag(int partition, long lag);

    /// <summary>A position (next offset to read) of a frames partition was committed.</summary>
    void Committed(int partition, long offset);

    /// <summary>
    /// A recoverable client problem: a failed commit (retried at the next interval), a consume
    /// error, a dead-letter delivery that is retried. <paramref name="operation"/> is "commit",
    /// "consume" or "dead-letter".
    /// </summary>
    void ClientError(string operation, string error);
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullKafkaObserver : IKafkaObserver
{
    /// <summary>The shared instance.</summary>
    public static NullKafkaObserver Instance { get; } = new();

    private NullKafkaObserver()
    {
    }

    public void FrameConsumed(FrameMetadata metadata)
    {
    }

    public void DeadLettered(string reason, string detail)
    {
    }

    public void ConsumerLag(int partition, long lag)
    {
    }

    public void Committed(int partition, long offset)
    {
    }

    public void ClientError(string operation, string error)
    {
    }
}
