using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Confluent.Kafka;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// Publishes alarm events to the alarms topic with an idempotent producer: key = the line (so every
/// event of a line, and so the raise, updates and clear of each alarm, lands on one partition and is
/// read in the order it was published), header <c>idempotency-key</c> =
/// <see cref="AlarmEvent.IdempotencyKey"/> (also in the value; consumers deduplicate repeats by it),
/// value = <see cref="AlarmJson"/>. Thread-safe.
/// </summary>
public sealed class KafkaAlarmSink : IAlarmSink, IDisposable
{
    /// <summary>The header that carries <see cref="AlarmEvent.IdempotencyKey"/>.</summary>
    public const string IdempotencyHeader = "idempotency-key";

    /// <inheritdoc />
    public string Name => "kafka";

    private readonly string _topic;
    private readonly IProducer<string, byte[]> _producer;

    /// <param name="options">Validated options; <see cref="KafkaOptions.AlarmsTopic"/> is used.</param>
    /// <param name="bootstrapServers">The cluster to use.</param>
    public KafkaAlarmSink(KafkaOptions options, string bootstrapServers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        _topic = options.EnsureValid().AlarmsTopic;
        _producer = new ProducerBuilder<string, byte[]>(KafkaClientConfig.Producer(options, bootstrapServers, 1024 * 1024, "alarm-sink")).Build();
    }

    /// <inheritdoc />
    public async Task PublishAsync(AlarmEvent alarm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        var message = new Message<string, byte[]>
        {
            Key = alarm.Line,
            Value = AlarmJson.Serialize(alarm),
            Headers = [new Header(IdempotencyHeader, Encoding.UTF8.GetBytes(alarm.IdempotencyKey))],
        };
        await _producer.ProduceAsync(_topic, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes queued events (up to 10 s) and closes the producer.</summary>
    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}

/// <summary>
/// The JSON of an alarm event on the alarms topic: camelCase property names, the phase as a
/// camelCase string ("raised", "updated", "cleared"), the time as ISO 8601 with offset, e.g.
/// <c>{"line":"L1","alarmId":"L1/cam-1/42","phase":"raised","revision":0,"at":"2026-01-02T03:04:05.006+00:00","peakScore":0.93,"cameras":["cam-1"],"idempotencyKey":"L1/cam-1/42/0"}</c>
/// (the idempotency key is repeated in the value for consumers that do not see Kafka keys; it is ignored when parsing).
/// </summary>
public static class AlarmJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    /// <summary>UTF-8 JSON of the event.</summary>
    public static byte[] Serialize(AlarmEvent alarm) => JsonSerializer.SerializeToUtf8Bytes(alarm, Options);

    /// <summary>Reads an event; throws <see cref="JsonException"/> on invalid JSON or missing fields.</summary>
    public static AlarmEvent Parse(ReadOnlySpan<byte> utf8Json)
    {
        var alarm = JsonSerializer.Deserialize<AlarmEvent>(utf8Json, Options) ?? throw new JsonException("alarm JSON is null");
        if (alarm.Line is null || alarm.AlarmId is null || alarm.Cameras is null)
        {
            throw new JsonException("alarm JSON lacks line, alarmId or cameras");
        }

        return alarm;
    }
}
