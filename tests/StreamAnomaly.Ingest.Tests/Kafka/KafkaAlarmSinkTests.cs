using System.Text;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class KafkaAlarmSinkTests
{
    private static readonly AlarmEvent[] Events =
    [
        new("line-1", "line-1/cam-a/40", AlarmPhase.Raised, 0, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), 0.91, ["cam-a"]),
        new("line-1", "line-1/cam-a/40", AlarmPhase.Updated, 1, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_001_000), 0.97, ["cam-a", "cam-b"]),
        new("line-1", "line-1/cam-a/40", AlarmPhase.Cleared, 2, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_009_000), 0.97, ["cam-a", "cam-b"]),
    ];

    [Fact]
    public async Task Kcat_in_another_process_reads_the_events_with_their_idempotency_keys_and_JSON()
    {
        var options = KafkaTestKit.FreshOptions(partitions: 2);
        using (var sink = new KafkaAlarmSink(options, KafkaTestKit.Bootstrap))
        {
            foreach (var alarm in Events)
            {
                await sink.PublishAsync(alarm, CancellationToken.None);
            }
        }

        var output = await KafkaTestKit.Kcat(
            TimeSpan.FromSeconds(30), "-b", KafkaTestKit.Bootstrap, "-C", "-t", options.AlarmsTopic, "-o", "beginning", "-c", "3", "-e", "-f", "%k\t%s\n");

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var read = lines.Select(l => l.Split('\t', 2)).ToDictionary(p => p[0], p => AlarmJson.Parse(Encoding.UTF8.GetBytes(p[1])));
        foreach (var alarm in Events)
        {
            AssertSame(alarm, read[alarm.IdempotencyKey]);
        }

        Assert.Contains("\"phase\":\"raised\"", output, StringComparison.Ordinal);
        Assert.Contains("\"alarmId\":\"line-1/cam-a/40\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AlarmJson_round_trips_and_writes_camelCase_with_the_phase_as_a_string()
    {
        var json = Encoding.UTF8.GetString(AlarmJson.Serialize(Events[1]));

        Assert.Equal("{\"line\":\"line-1\",\"alarmId\":\"line-1/cam-a/40\",\"phase\":\"updated\",\"revision\":1,\"at\":\"2023-11-14T22:13:21+00:00\",\"peakScore\":0.97,\"cameras\":[\"cam-a\",\"cam-b\"],\"idempotencyKey\":\"line-1/cam-a/40/1\"}", json);
        AssertSame(Events[1], AlarmJson.Parse(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void AlarmJson_refuses_an_unknown_phase_and_missing_fields()
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => AlarmJson.Parse("{\"line\":\"l\",\"alarmId\":\"a\",\"phase\":\"exploded\",\"revision\":0,\"at\":\"2023-11-14T22:13:21+00:00\",\"peakScore\":1,\"cameras\":[]}"u8));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => AlarmJson.Parse("{\"phase\":\"raised\"}"u8));
    }

    private static void AssertSame(AlarmEvent expected, AlarmEvent actual)
    {
        Assert.Equal(expected with { Cameras = [] }, actual with { Cameras = [] });
        Assert.Equal(expected.Cameras, actual.Cameras);
    }
}
