using MQTTnet;
using MQTTnet.Protocol;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Mqtt;

/// <summary>
/// Publishes alarm events to an MQTT broker (<see cref="MqttOptions"/>): JSON on
/// <c>{TopicPrefix}/{line}</c>, QoS 1, MQTT 5 user property <c>idempotency-key</c>. Connects on
/// the first event and again after the broker went away; a publication that fails throws, so the
/// line aggregator tries the same event again. Thread-safe (one publication at a time).
/// </summary>
public sealed class MqttAlarmSink : IAlarmSink, IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    public string Name => "mqtt";

    /// <param name="options">Enabled, valid options.</param>
    public MqttAlarmSink(MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0 || !options.TryEndpoint(out var host, out var port))
        {
            throw new ArgumentException($"invalid MQTT options: {string.Join("; ", errors.DefaultIfEmpty($"{MqttOptions.SectionName}:Server is empty"))}", nameof(options));
        }

        _options = options;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(string.IsNullOrEmpty(options.ClientId) ? $"streamanomaly-{Guid.NewGuid():N}" : options.ClientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithCleanSession();
        if (!string.IsNullOrEmpty(options.Username))
        {
            builder = builder.WithCredentials(options.Username, string.IsNullOrEmpty(options.PasswordFile) ? null : SecretFiles.Read($"{MqttOptions.SectionName}:PasswordFile", options.PasswordFile));
        }

        if (options.UseTls)
        {
            builder = builder.WithTlsOptions(static tls => tls.UseTls());
        }

        _clientOptions = builder.Build();
        _client = new MqttClientFactory().CreateMqttClient();
    }

    /// <summary>The topic of <paramref name="line"/>'s alarms.</summary>
    public string TopicOf(string line) => $"{_options.TopicPrefix}/{line}";

    /// <inheritdoc />
    public async Task PublishAsync(AlarmEvent alarm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(TopicOf(alarm.Line))
            .WithPayload(AlarmJson.Serialize(alarm))
            .WithContentType("application/json")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithUserProperty(KafkaAlarmSink.IdempotencyHeader, System.Text.Encoding.UTF8.GetBytes(alarm.IdempotencyKey).AsMemory())
            .Build();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_client.IsConnected)
            {
                await _client.ConnectAsync(_clientOptions, cancellationToken).ConfigureAwait(false);
            }

            var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                throw new IOException($"MQTT broker refused alarm {alarm.IdempotencyKey}: {result.ReasonCode} {result.ReasonString}");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Disconnects cleanly (queued QoS 1 publications were already acknowledged) and releases the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
            {
                // the broker is gone already: nothing left to close
            }
        }

        _client.Dispose();
        _gate.Dispose();
    }
}
