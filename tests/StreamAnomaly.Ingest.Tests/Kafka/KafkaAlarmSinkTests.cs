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
            TimeSpan.FromSeconds(30), "-b", KafkaTestKit.Bootstrap, "-C", "-t", options.AlarmsTopic, "-o", "beginning", "-c", "3", "-e", "-f", "%k\t%h\t%s\n");

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var read = lines.Select(l => l.Split('\t', 3)).ToDictionary(p => p[1], p => (Key: p[0], Alarm: AlarmJson.Parse(Encoding.UTF8.GetBytes(p[2]))));
        foreach (var alarm in Events)
        {
            var (key, parsed) = read[$"{KafkaAlarmSink.IdempotencyHeader}={alarm.IdempotencyKey}"];
            Assert.Equal(alarm.Line, key);
            AssertSame(alarm, parsed);
        }

        Assert.Contains("\"phase\":\"raised\"", output, StringComparison.Ordinal);
        Assert.Contains("\"alarmId\":\"line-1/cam-a/40\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_lines_alarm_lifecycles_are_read_back_in_the_order_they_were_published()
    {
        var options = KafkaTestKit.FreshOptions(partitions: 8);
        var published = new List<AlarmEvent>();
        for (var n = 0; n < 3; n++)
        {
            foreach (var line in new[] { "line-1", "line-2", "line-3" })
            {
                var id = $"{line}/cam-a/{n}";
                var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + (n * 10_000));
                published.Add(new(line, id, AlarmPhase.Raised, 0, at, 0.9, ["cam-a"]));
                published.Add(new(line, id, AlarmPhase.Updated, 1, at.AddSeconds(1), 0.95, ["cam-a"]));
                published.Add(new(line, id, AlarmPhase.Cleared, 2, at.AddSeconds(5), 0.95, ["cam-a"]));
            }
        }

        using (var sink = new KafkaAlarmSink(options, KafkaTestKit.Bootstrap))
        {
            await Task.WhenAll(published.Select(a => sink.PublishAsync(a, CancellationToken.None)));
        }

        var output = await KafkaTestKit.Kcat(
            TimeSpan.FromSeconds(30), "-b", KafkaTestKit.Bootstrap, "-C", "-t", options.AlarmsTopic, "-o", "beginning", "-c", $"{published.Count}", "-e", "-f", "%p\t%s\n");

        var read = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t', 2))
            .Select(p => (Partition: p[0], Alarm: AlarmJson.Parse(Encoding.UTF8.GetBytes(p[1]))))
            .ToList();
        Assert.Equal(published.Count, read.Count);
        foreach (var line in published.GroupBy(static a => a.Line))
        {
            var ofLine = read.Where(r => r.Alarm.Line == line.Key).ToList();
            Assert.Single(ofLine.Select(static r => r.Partition).Distinct());
            Assert.Equal(line.Select(static a => a.IdempotencyKey), ofLine.Select(static r => r.Alarm.IdempotencyKey));
        }
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
