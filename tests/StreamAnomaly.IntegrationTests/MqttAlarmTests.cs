using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using MQTTnet;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Mqtt;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Debian's mosquitto on a free loopback port, anonymous, in memory; stopped on dispose.</summary>
internal sealed class Mosquitto : IDisposable
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"mosquitto-{Guid.NewGuid():N}.conf");
    private Process? _process;

    public Mosquitto(int? port = null) => Port = port ?? NodeProcess.FreePort();

    public int Port { get; }

    public string Server => $"127.0.0.1:{Port}";

    /// <summary>Starts the broker and waits until it accepts connections.</summary>
    public async Task<Mosquitto> StartAsync()
    {
        await File.WriteAllTextAsync(_config, $"listener {Port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        var binary = File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
        _process = Process.Start(new ProcessStartInfo(binary, ["-c", _config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("mosquitto did not start");
        var accepting = await Eventually.True(
            () =>
            {
                using var probe = new System.Net.Sockets.TcpClient();
                try
                {
                    probe.Connect("127.0.0.1", Port);
                    return true;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(10));
        Assert.True(accepting, $"mosquitto listens on {Port}");
        return this;
    }

    /// <summary>A subscriber to <paramref name="filter"/> (MQTT 5) collecting what arrives, subscribed when this returns.</summary>
    public async Task<(IMqttClient Client, ConcurrentQueue<MqttApplicationMessage> Received)> SubscribeAsync(string filter)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var received = new ConcurrentQueue<MqttApplicationMessage>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Port).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return (client, received);
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        File.Delete(_config);
    }
}

/// <summary>Alarm events on MQTT through a real broker (mosquitto): the sink alone, and a plant that raises an alarm.</summary>
[Collection(nameof(PlantCollection))]
public sealed class MqttAlarmTests(PlantFixture fixture)
{
    private static AlarmEvent Event(string line, int n, AlarmPhase phase, int revision) =>
        new(line, $"{line}/cam/{n}", phase, revision, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + (n * 10_000) + revision), 0.9, ["cam"]);

    [Fact]
    public async Task Each_lines_alarm_events_arrive_in_order_on_its_own_topic_with_their_idempotency_keys()
    {
        using var broker = await new Mosquitto().StartAsync();
        var (subscriber, received) = await broker.SubscribeAsync("plant/alarms/#");
        using var client = subscriber;
        var published = new List<AlarmEvent>();
        await using (var sink = new MqttAlarmSink(new MqttOptions { Server = broker.Server, TopicPrefix = "plant/alarms" }))
        {
            foreach (var line in new[] { "press", "robot" })
            {
                published.AddRange([Event(line, 1, AlarmPhase.Raised, 0), Event(line, 1, AlarmPhase.Updated, 1), Event(line, 1, AlarmPhase.Cleared, 2)]);
            }

            foreach (var alarm in published)
            {
                await sink.PublishAsync(alarm, CancellationToken.None);
            }
        }

        Assert.True(await Eventually.True(() => received.Count >= published.Count, TimeSpan.FromSeconds(10)), $"{received.Count} of {published.Count} events arrived");
        var read = received.Select(static m => (m.Topic, Alarm: AlarmJson.Parse(m.Payload.ToArray()), Key: Encoding.UTF8.GetString(m.UserProperties.Single(p => p.Name == KafkaAlarmSink.IdempotencyHeader).ValueBuffer.Span))).ToList();
        foreach (var line in published.GroupBy(static a => a.Line))
        {
            var ofLine = read.Where(r => r.Alarm.Line == line.Key).ToList();
            Assert.All(ofLine, r => Assert.Equal($"plant/alarms/{line.Key}", r.Topic));
            Assert.Equal(line.Select(static a => a.IdempotencyKey), ofLine.Select(static r => r.Alarm.IdempotencyKey));
            Assert.Equal(line.Select(static a => a.IdempotencyKey), ofLine.Select(static r => r.Key));
        }
    }

    [Fact]
    public async Task Publishing_while_the_broker_is_down_fails_and_succeeds_once_it_is_back()
    {
        using var broker = new Mosquitto();
        await using var sink = new MqttAlarmSink(new MqttOptions { Server = broker.Server });
        var alarm = Event("press", 1, AlarmPhase.Raised, 0);
        await Assert.ThrowsAnyAsync<Exception>(() => sink.PublishAsync(alarm, CancellationToken.None));

        await broker.StartAsync();
        var (subscriber, received) = await broker.SubscribeAsync("streamanomaly/alarms/#");
        using var client = subscriber;
        await sink.PublishAsync(alarm, CancellationToken.None);
        Assert.True(await Eventually.True(() => received.Count == 1, TimeSpan.FromSeconds(10)), "the event arrives after the broker came back");
    }

    [Fact]
    public async Task A_plant_configured_with_mqtt_publishes_its_raised_alarm_there()
    {
        using var broker = await new Mosquitto().StartAsync();
        var (subscriber, received) = await broker.SubscribeAsync("streamanomaly/alarms/#");
        using var client = subscriber;
        var recorder = new PlantRecorder();
        var settings = PlantFixture.Plant(lines: 1, perLine: 1) with { Mqtt = new MqttOptions { Server = broker.Server } };
        await using var node = await PlantNode.StartAsync(settings, new NodeServices { Scorers = () => [fixture.Scorer()], Observer = recorder, Log = _ => { } });
        Assert.True(await Eventually.True(() => recorder.Decided > 10, TimeSpan.FromSeconds(60)), "frames decided");

        Assert.Null((await node.InjectAsync("line-a-cam1", "foreign-object-beside-belt")).Error);
        Assert.True(await Eventually.True(() => recorder.Raised("line-a").Any(), TimeSpan.FromSeconds(30)), "alarm raised");
        var raised = recorder.Raised("line-a").First();
        Assert.True(await Eventually.True(() => received.Any(m => AlarmJson.Parse(m.Payload.ToArray()).IdempotencyKey == raised.IdempotencyKey), TimeSpan.FromSeconds(10)), "the raised alarm arrives on MQTT");
        Assert.All(received, static m => Assert.Equal("streamanomaly/alarms/line-a", m.Topic));
    }
}
