using StreamAnomaly.Cli;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
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
        return loaded.Detector is IVariantScorer scorer ? scorer.ScoreVariants(frames) : [loaded.Detector.ScoreSequence(frames)];
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
        Assert.Equal(variants.Order(), written.VariantCalibrations!.Keys.Order());
        for (var v = 0; v < variants.Length; v++)
        {
            Assert.Equal(ScoreCalibration.Fit(scores[v].Select(s => s.RawScore), 90), written.VariantCalibrations[variants[v]]);
        }

        Assert.Equal(written.VariantCalibrations[variants[0]], written.Calibration);
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
        Assert.Equal(before.Manifest.Parameters, after.Manifest.Parameters);
        Assert.Equal(before.Manifest.CreatedAt, after.Manifest.CreatedAt);
        Assert.Equal("20261123T200000Z", after.Manifest.ModelVersion);
        Assert.Equal("3", after.Manifest.Training["epochs"]);
        Assert.Equal("16", after.Manifest.Training["calibrationFrames"]);
        Assert.Equal(Path.GetFullPath(fixture.Data("val")), after.Manifest.Training["calibrationData"]);
        Assert.Equal(ScoreCalibration.Fit(ValScores(bundle)[0].Select(s => s.RawScore), 99), after.Manifest.Calibration);
    }

    [Fact]
    public async Task Calibrate_set_changes_the_scoring_parameter_before_the_thresholds_are_fitted()
    {
        var bundle = AutoencoderBundle("cal-peak.sabundle");
        var output = fixture.PathOf("cal-peak-out.sabundle");

        var code = await CliApp.RunAsync(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", output, "--set", "peak=4"], Clock);

        Assert.Equal(0, code);
        var written = ModelBundle.Load(output).Manifest;
        Assert.Equal("4", written.Parameters["peak"]);
        Assert.Equal(ScoreCalibration.Fit(ValScores(output)[0].Select(s => s.RawScore), 99), written.Calibration);
        var wholeFrame = ScoreCalibration.Fit(ValScores(bundle)[0].Select(s => s.RawScore), 99);
        Assert.True(written.Calibration.Threshold < wholeFrame.Threshold, $"a 4 x 4 window's threshold {written.Calibration.Threshold} should lie below the whole frame's {wholeFrame.Threshold}");
    }

    [Theory]
    [InlineData("nope=1", "has no parameter 'nope' (its parameters: code, peak, width)")]
    [InlineData("peak", "expected key=value")]
    [InlineData("peak=abc", "--set peak=abc: not a value the autoencoder detector reads (it read 0)")]
    [InlineData("peak=33", "peak window 33 must lie in 0 .. 32 (the input size)")]
    public async Task Calibrate_refuses_a_setting_the_detector_cannot_take_and_writes_nothing(string setting, string message)
    {
        var bundle = AutoencoderBundle("cal-bad.sabundle");
        var output = fixture.PathOf($"cal-bad-{setting.Length}.sabundle");

        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", bundle, "--data", fixture.Data("val"), "--out", output, "--set", setting]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains(message, error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Calibrate_refuses_a_temporal_bundle()
    {
        var path = fixture.PathOf("cal-temporal.sabundle");
        byte[] weights = [1, 2, 3];
        var manifest = new BundleManifest(
            ModelBundle.CurrentFormatVersion, TemporalDetector.Name, "v", DateTimeOffset.UnixEpoch, 64, 64, new Dictionary<string, string>(), new ScoreCalibration(1, 0, 2, 99), new Dictionary<string, string>(), ModelBundle.Hash(weights));
        new ModelBundle(manifest, weights).Save(path);

        var (code, error) = await ConsoleCapture.Run(["calibrate", "--bundle", path, "--data", fixture.Data("val"), "--out", fixture.PathOf("cal-temporal-out.sabundle")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("calibrate refits frame detectors (autoencoder, integrated); a temporal bundle is calibrated by train --detector temporal", error);
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
