using System.Runtime.InteropServices;
using Confluent.Kafka;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// Publishes encoded frames to the frames topic with an idempotent producer: key = camera id
/// (so one camera's frames stay in order on one partition), value = the encoded image, headers =
/// <see cref="FrameHeaders"/>. Thread-safe. Dispose flushes what is still queued (up to 10 s).
/// </summary>
public sealed class KafkaFrameSink : IFrameSink, IDisposable
{
    private readonly KafkaOptions _options;
    private readonly IProducer<string, byte[]> _producer;

    /// <param name="options">Validated options; <see cref="KafkaOptions.FramesTopic"/> and <see cref="KafkaOptions.MaxMessageBytes"/> are used.</param>
    /// <param name="bootstrapServers">The cluster to use (the configured one or <see cref="EmbeddedBroker.BootstrapServers"/>).</param>
    public KafkaFrameSink(KafkaOptions options, string bootstrapServers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        _options = options.EnsureValid();
        _producer = new ProducerBuilder<string, byte[]>(KafkaClientConfig.Producer(options, bootstrapServers, options.MaxRecordBytes, "frame-sink")).Build();
    }

    /// <inheritdoc />
    /// <exception cref="FrameTooLargeException">The encoded frame is larger than <see cref="KafkaOptions.MaxMessageBytes"/>.</exception>
    /// <exception cref="ArgumentException">The metadata is not publishable (see <see cref="FrameHeaders.Write"/>).</exception>
    /// <exception cref="ProduceException{TKey, TValue}">The broker did not take the message.</exception>
    public async Task PublishAsync(FrameMetadata metadata, ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (encoded.Length > _options.MaxMessageBytes)
        {
            throw new FrameTooLargeException(metadata.Key, encoded.Length, _options.MaxMessageBytes);
        }

        var value = MemoryMarshal.TryGetArray(encoded, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : encoded.ToArray();
        var message = new Message<string, byte[]> { Key = metadata.Camera, Value = value, Headers = FrameHeaders.Write(metadata) };
        await _producer.ProduceAsync(_options.FramesTopic, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes queued frames (up to 10 s) and closes the producer.</summary>
    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}

/// <summary>An encoded frame is larger than the configured <c>Kafka:MaxMessageBytes</c>.</summary>
public sealed class FrameTooLargeException : InvalidOperationException
{
    public FrameTooLargeException(FrameKey frame, int bytes, int maxBytes)
        : base($"frame {frame} is {bytes} bytes encoded, more than Kafka:MaxMessageBytes = {maxBytes}: lower the camera's resolution or JPEG quality, or raise the limit (topic max.message.bytes too)")
    {
        Frame = frame;
        Bytes = bytes;
        MaxBytes = maxBytes;
    }

    /// <summary>The frame that was refused.</summary>
    public FrameKey Frame { get; }

    /// <summary>Its encoded size in bytes.</summary>
    public int Bytes { get; }

    /// <summary>The configured limit in bytes.</summary>
    public int MaxBytes { get; }
}
