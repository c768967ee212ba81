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
    public async Task The_demo_fuses_patchcore_with_the_cycle_detector_and_times_the_machine_cycles()
    {
        var request = new StreamDemoRequest(
            Cameras: 2, Lines: 2, DurationSeconds: 24, Bundle: null, InjectEverySeconds: 10, Seed: 0, Size: 64, Fps: 5,
            CliApp.Commissioned(["patchcore", "cycle"], ["patchcore.size=64", "cycle.size=64"], seconds: 20));

        var summary = await StreamDemoWorkflow.RunAsync(request, TimeProvider.System, CancellationToken.None);

        Assert.True(summary.FramesDecided > 100, $"{summary.FramesDecided} frames decided");
        Assert.NotEmpty(summary.CycleSeconds);
        Assert.All(summary.CycleSeconds, s => Assert.InRange(s, 3, 12)); // the synthetic cell's cycle: 6 s +- 6 %, anomalies 0.6x to 1.6x
    }

    [Fact]
    public async Task With_several_detectors_each_setting_must_name_its_detector()
    {
        var (code, error) = await ConsoleCapture.Run(["demo", "--detector", "patchcore", "--detector", "cycle", "--set", "size=64"]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--set size=64: with several detectors, name the one it is for, e.g. --set patchcore.size=64", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Prefixed_settings_go_to_their_detector_after_its_demo_preset()
    {
        var options = CliApp.Commissioned(["patchcore", "cycle"], ["cycle.windowCycles=0.5", "patchcore.size=64"], seconds: 30);

        Assert.Equal(["patchcore", "cycle"], options.Select(static o => o.Detector));
        Assert.Equal(["size=128", "size=64"], options[0].Settings);
        Assert.Equal(["windowCycles=0.5"], options[1].Settings);
        Assert.All(options, o => Assert.Equal(30, o.Seconds));
    }

    [Fact]
    public async Task The_demo_refuses_a_detector_named_twice()
    {
        var (code, error) = await ConsoleCapture.Run(["demo", "--detector", "cycle", "--detector", "cycle"]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--detector: name each detector once", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_refuses_fewer_cameras_than_lines()
    {
        var (code, error) = await ConsoleCapture.Run(["demo", "--cameras", "1", "--lines", "2"]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--cameras", error, StringComparison.Ordinal);
    }
}
