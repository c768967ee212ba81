using StreamAnomaly.Cli;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.IntegrationTests;

public sealed class StreamDemoSummaryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    private static AlarmEvent Raised(string line, double at) => new(line, $"{line}:c:{at}", AlarmPhase.Raised, 0, T0.AddSeconds(at), 0.9, ["c"]);

    [Fact]
    public void An_alarm_on_the_injected_line_within_the_window_counts_as_detection_and_others_as_false_alarms()
    {
        var recorder = new DemoRecorder();
        recorder.AlarmChanged(Raised("line-a", 13));   // detects the injection at 10 on line-a
        recorder.AlarmChanged(Raised("line-b", 14));   // line-b had no injection then: false alarm
        recorder.AlarmChanged(Raised("line-a", 40));   // long after: false alarm
        var injections = new List<(string Line, string Camera, string Kind, DateTimeOffset At)>
        {
            ("line-a", "a1", "dropped-part", T0.AddSeconds(10)),
            ("line-b", "b1", "dropped-part", T0.AddSeconds(25)), // never detected
        };
        var summary = StreamDemoWorkflow.Summarise(recorder, injections, T0, T0.AddSeconds(60), window: 15);
        Assert.Equal(3.0, summary.Injections[0].AlarmAfter!.Value, 9);
        Assert.Null(summary.Injections[1].AlarmAfter);
        Assert.Equal(2, summary.FalseAlarms);
    }
}

[Collection(nameof(ConsoleCollection))]
public sealed class StreamDemoCommandTests
{
    [Fact]
    public async Task The_demo_commissions_its_default_detector_runs_a_plant_and_ends_with_exit_code_0()
    {
        var (code, error) = await ConsoleCapture.Run(
            ["demo", "--cameras", "2", "--lines", "2", "--duration", "12", "--inject-every", "4", "--commission-seconds", "4", "--size", "64"]);
        Assert.True(code == 0, error);
    }

    [Fact]
    public async Task The_demo_commissions_the_autoencoder_when_asked()
    {
        var (code, error) = await ConsoleCapture.Run(
            ["demo", "--cameras", "2", "--lines", "2", "--duration", "8", "--inject-every", "4", "--commission-seconds", "4", "--detector", "autoencoder", "--set", "epochs=1", "--size", "64"]);
        Assert.True(code == 0, error);
    }

    [Fact]
    public async Task The_demo_refuses_fewer_cameras_than_lines()
    {
        var (code, error) = await ConsoleCapture.Run(["demo", "--cameras", "1", "--lines", "2"]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--cameras", error, StringComparison.Ordinal);
    }
}
