using StreamAnomaly.Cli;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Detectors;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class CalibrateCommandTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private static readonly TimeProvider Clock = new FixedClock(new DateTimeOffset(2026, 11, 23, 20, 0, 0, TimeSpan.Zero));

    private string AutoencoderBundle(string name) => AutoencoderBundles.Untrained(fixture.PathOf(name));

    /// <summary>The val split's raw scores, as the bundle at <paramref name="path"/> gives them, per scoring variant.</summary>
    private IReadOnlyList<IReadOnlyList<RawFrameScore>> ValScores(string path)
    {
        using var loaded = DetectorCatalog.Load(path, CPU);
        var frames = ClipDataset.Open(fixture.Data("val"), requireLabels: false).SelectMany(c => c.ReadFrames()).ToArray();
        return loaded.Detector.ScoreVariants(frames, ScoringContext.None).Select(v => v!).ToArray();
    }

    [Fact]
    public async Task Calibrate_fits_every_integrated_variant_to_the_percentile_of_the_given_frames()
    {
        var bundle = IntegratedBundles.Untrained(fixture.PathOf("cal-int.sabundle"));
        var output = fixture.PathOf("cal-int-out.sabundle");

        var code = await CliApp.RunAsync(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", output, "--percentile", "90"], Clock);

        Assert.Equal(0, code);
        var written = ModelBundle.Load(output).Manifest;
        var scores = ValScores(bundle);
        var variants = IntegratedScoring.Table5.Select(v => v.Name).ToArray();
        Assert.Equal(variants, written.Calibrations.Keys);
        for (var v = 0; v < variants.Length; v++)
        {
            Assert.Equal(ScoreCalibration.Fit(scores[v].Select(s => s.RawScore), 90), written.Calibrations[variants[v]]);
        }
    }

    [Fact]
    public async Task Calibrate_keeps_the_weights_and_records_when_and_on_what_it_calibrated()
    {
        var bundle = AutoencoderBundle("cal-ae.sabundle");
        var output = fixture.PathOf("cal-ae-out.sabundle");

        var code = await CliApp.RunAsync(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", output], Clock);

        Assert.Equal(0, code);
        var before = ModelBundle.Load(bundle);
        var after = ModelBundle.Load(output);
        Assert.Equal(before.Weights, after.Weights);
        Assert.Equal(before.Manifest.Options.ToJsonString(), after.Manifest.Options.ToJsonString());
        Assert.Equal(before.Manifest.CreatedAt, after.Manifest.CreatedAt);
        Assert.Equal("20261123T200000Z", after.Manifest.ModelVersion);
        Assert.Equal("3", after.Manifest.Training["epochs"]);
        Assert.Equal("16", after.Manifest.Training["calibrationFrames"]);
        Assert.Equal(Path.GetFullPath(fixture.Data("val")), after.Manifest.Training["calibrationData"]);
        Assert.Equal(ScoreCalibration.Fit(ValScores(bundle)[0].Select(s => s.RawScore), 99), after.Manifest.Calibrations["autoencoder"]);
    }

    [Fact]
    public async Task Calibrate_set_changes_the_scoring_parameter_before_the_thresholds_are_fitted()
    {
        var bundle = AutoencoderBundle("cal-peak.sabundle");
        var output = fixture.PathOf("cal-peak-out.sabundle");

        var code = await CliApp.RunAsync(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", output, "--set", "peak=4"], Clock);

        Assert.Equal(0, code);
        var written = ModelBundle.Load(output).Manifest;
        Assert.Equal(4, written.Options["peak"]!.GetValue<int>());
        var calibration = written.Calibrations["autoencoder"];
        Assert.Equal(ScoreCalibration.Fit(ValScores(output)[0].Select(s => s.RawScore), 99), calibration);
        var wholeFrame = ScoreCalibration.Fit(ValScores(bundle)[0].Select(s => s.RawScore), 99);
        Assert.True(calibration.Threshold < wholeFrame.Threshold, $"a 4 x 4 window's threshold {calibration.Threshold} should lie below the whole frame's {wholeFrame.Threshold}");
    }

    [Theory]
    [InlineData("nope=1", "error: unknown option 'nope' (options: size, width, code, peak, epochs, batch, learningRate, colourJitter)")]
    [InlineData("peak", "error: 'peak': expected option=value")]
    [InlineData("peak=abc", "error: option 'peak': 'abc' is not an integer")]
    [InlineData("peak=33", "error: option 'peak': window 33 must fit the input (32 px)")]
    [InlineData("width=4", "error: option 'width' shapes what the networks learn: retrain to change it (options that only change scoring: peak)")]
    public async Task Calibrate_refuses_a_setting_the_detector_cannot_take_and_writes_nothing(string setting, string message)
    {
        var bundle = AutoencoderBundle("cal-bad.sabundle");
        var output = fixture.PathOf($"cal-bad-{setting.Length}.sabundle");

        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", output, "--set", setting]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal(message, error.Trim());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Calibrate_refuses_data_without_frames_of_the_category()
    {
        var bundle = AutoencoderBundle("cal-cat.sabundle");

        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", fixture.PathOf("cal-cat-out.sabundle"), "--category", "hands"]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("no normal frames of category hands to calibrate on", error);
    }

    [Fact]
    public async Task Calibrate_refuses_a_percentile_above_100()
    {
        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", "unused.sabundle", "--data", fixture.Data("val"), "--out", fixture.PathOf("unused.sabundle"), "--percentile", "101"]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("error: --percentile must be in 0 .. 100, got 101", error.Trim());
    }
}
