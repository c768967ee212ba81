using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// The whole pipeline in one process on the embedded Kafka broker, with real parts: synthetic
/// cameras, Kafka (librdkafka mock cluster through Confluent.Kafka), the sharded actors and the
/// commissioned autoencoder.
/// </summary>
[Collection(nameof(PlantCollection))]
public sealed class PlantTests(PlantFixture fixture)
{
    [Fact]
    public async Task An_anomaly_injected_on_line_b_raises_an_alarm_on_line_b_and_none_on_line_a()
    {
        var recorder = new PlantRecorder();
        await using var node = await PlantNode.StartAsync(PlantFixture.Plant(lines: 2, perLine: 1), new NodeServices { Scorers = () => [fixture.Scorer()], Observer = recorder, Log = _ => { } });
        Assert.True(await Eventually.True(() => recorder.DecidedPerLine.GetValueOrDefault("line-a") > 10 && recorder.DecidedPerLine.GetValueOrDefault("line-b") > 10, TimeSpan.FromSeconds(60)), "frames of both lines are decided");

        var injection = await node.InjectAsync("line-b-cam1", "foreign-object-beside-belt");
        Assert.Null(injection.Error);

        // the anomaly shows from the next machine cycle on (a few seconds); the alarm follows k of n hot frames
        Assert.True(await Eventually.True(() => recorder.Raised("line-b").Any(), TimeSpan.FromSeconds(30)), "alarm raised on line B");
        var alarm = recorder.Raised("line-b").First();
        Assert.Equal(["line-b-cam1"], alarm.Cameras);
        Assert.True(alarm.At >= injection.At, "the alarm comes from frames captured after the injection");
        Assert.Empty(recorder.Raised("line-a"));
        Assert.Equal(alarm.AlarmId, (await node.LineStatusAsync("line-b")).ActiveAlarm?.AlarmId);
    }

    [Fact]
    public async Task A_normal_run_of_many_frames_raises_no_alarm()
    {
        var recorder = new PlantRecorder();
        var settings = PlantFixture.Plant(lines: 2, perLine: 2);
        await using var node = await PlantNode.StartAsync(settings, new NodeServices { Scorers = () => [fixture.Scorer()], Observer = recorder, Log = _ => { } });
        Assert.True(await Eventually.True(() => recorder.Decided >= 400, TimeSpan.FromSeconds(90)), $"400 frames decided (got {recorder.Decided})");
        Assert.Empty(recorder.Alarms);
        Assert.All(settings.Lines, l => Assert.True(recorder.DecidedPerLine.GetValueOrDefault(l.Id) > 50, $"{l.Id} decided frames"));
    }
}
