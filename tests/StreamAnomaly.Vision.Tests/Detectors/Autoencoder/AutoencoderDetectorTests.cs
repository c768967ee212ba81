using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Autoencoder;

/// <summary>One small autoencoder trained once and shared by the tests that only read it.</summary>
public sealed class TrainedAutoencoderFixture : IDisposable
{
    public const int Size = 32;

    public TrainedAutoencoderFixture()
    {
        using var frames = FrameTensors.ToByteTensor(TestFrames.Normal(Size, 48), Size, Size);
        var progress = new ProgressRecorder();
        (Detector, _) = AutoencoderTrainer.Train(
            frames,
            new AutoencoderOptions { Size = Size, Width = 8, Code = 32, Epochs = 30, Batch = 8, LearningRate = 3e-3, ColourJitter = false },
            new FitContext(CPU, Seed: 7, progress));
        Progress = progress.Reports;
    }

    public AutoencoderDetector Detector { get; }

    public IReadOnlyList<TrainingProgress> Progress { get; }

    public void Dispose() => Detector.Dispose();
}

public sealed class AutoencoderDetectorTests(TrainedAutoencoderFixture fixture) : IClassFixture<TrainedAutoencoderFixture>
{
    private const int Size = TrainedAutoencoderFixture.Size;

    [Fact]
    public void Training_lowers_the_epoch_loss()
    {
        var epochLosses = fixture.Progress.Where(p => p.EpochDone).Select(p => p.Loss).ToArray();
        Assert.Equal(30, epochLosses.Length);
        Assert.True(epochLosses[^1] < epochLosses[0] / 3, $"loss went from {epochLosses[0]} to {epochLosses[^1]}");
    }

    [Fact]
    public void A_frame_with_an_unseen_object_scores_higher_than_normal_frames()
    {
        var normal = fixture.Detector.ScoreSequence(TestFrames.Normal(Size, 8, seed: 1000));
        var anomalous = fixture.Detector.ScoreSequence([TestFrames.Scene(Size, 1000, (10, 12, 8))]);
        Assert.True(anomalous[0].RawScore > normal.Max(s => s.RawScore) * 2,
            $"anomalous {anomalous[0].RawScore} vs normal max {normal.Max(s => s.RawScore)}");
    }

    [Fact]
    public void Residual_map_is_highest_on_the_unseen_object()
    {
        var score = fixture.Detector.ScoreSequence([TestFrames.Scene(Size, 1000, (10, 12, 8))])[0];
        var map = score.Residual;
        Assert.Equal((Size, Size), (map.Width, map.Height));
        var peak = Array.IndexOf(map.Values, map.Values.Max());
        var (px, py) = (peak % Size, peak / Size);
        Assert.InRange(px, 9, 18);
        Assert.InRange(py, 11, 20);
    }

    [Fact]
    public void Raw_score_is_the_sum_of_the_residual_map()
    {
        var score = fixture.Detector.ScoreSequence([TestFrames.Scene(Size, 3)])[0];
        Assert.Equal(score.Residual.Values.Sum(v => (double)v), score.RawScore, 1e-3);
    }

    [Fact]
    public void Frames_of_any_resolution_are_resized_to_the_model_input()
    {
        var scores = fixture.Detector.ScoreSequence([TestFrames.Scene(48, 5), TestFrames.Scene(Size, 5)]);
        Assert.Equal(2, scores.Count);
        Assert.All(scores, s => Assert.Equal(Size * Size, s.Residual.Values.Length));
    }

    [Fact]
    public void Scoring_leaves_no_live_tensor_behind()
    {
        var frames = TestFrames.Normal(Size, 5);
        fixture.Detector.ScoreSequence(frames);
        var before = LeakProbe.LiveTensors;
        fixture.Detector.ScoreSequence(frames);
        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    [Fact]
    public void A_saved_bundle_loads_into_a_detector_that_scores_identically()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ae-{Guid.NewGuid():N}.sabundle");
        try
        {
            var calibration = new ScoreCalibration(5, 1, 9, 99);
            var bundle = DetectorCatalog.CreateBundle(fixture.Detector, Calibrations(calibration), new Dictionary<string, string> { ["epochs"] = "30" }, new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
            bundle.Save(path);
            using var loaded = DetectorCatalog.Load(path, CPU);
            var frames = TestFrames.Normal(Size, 3, seed: 50);
            var expected = fixture.Detector.ScoreSequence(frames).Select(s => s.RawScore);
            var actual = loaded.Detector.ScoreSequence(frames).Select(s => s.RawScore);
            Assert.Equal(expected, actual);
            Assert.Equal(calibration, loaded.Calibration);
            Assert.Equal("autoencoder", loaded.Manifest.Detector);
            Assert.Equal("20261122T120000Z", loaded.Manifest.ModelVersion);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_bundle_whose_weights_do_not_fit_its_shape_is_rejected_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ae-{Guid.NewGuid():N}.sabundle");
        try
        {
            var bundle = DetectorCatalog.CreateBundle(fixture.Detector, Calibrations(new ScoreCalibration(5, 1, 9, 99)), new Dictionary<string, string>(), DateTimeOffset.UnixEpoch);
            var options = bundle.Manifest.Options.DeepClone().AsObject();
            options["width"] = 16;
            var lying = bundle with { Manifest = bundle.Manifest with { Options = options } };
            lying.Save(path);
            var error = Assert.Throws<InvalidDataFileException>(() => DetectorCatalog.Load(path, CPU));
            Assert.StartsWith(path, error.Message);
            Assert.Contains("weights do not fit", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_bundle_whose_options_ask_for_a_huge_bottleneck_is_refused_before_a_network_is_built()
    {
        var bundle = DetectorCatalog.CreateBundle(fixture.Detector, Calibrations(new ScoreCalibration(5, 1, 9, 99)), new Dictionary<string, string>(), DateTimeOffset.UnixEpoch);
        var options = bundle.Manifest.Options.DeepClone().AsObject();
        (options["size"], options["width"], options["code"]) = (1024, 256, 65536);
        var huge = bundle with { Manifest = bundle.Manifest with { Options = options } };

        var error = Assert.Throws<InvalidDataFileException>(() => DetectorCatalog.Load(huge, "huge.sabundle", CPU));

        Assert.StartsWith("huge.sabundle: corrupted model bundle (option 'code': the bottleneck would hold 137,438,953,472 parameters", error.Message);
    }

    [Fact]
    public void A_bundle_for_an_unknown_detector_is_rejected()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ae-{Guid.NewGuid():N}.sabundle");
        try
        {
            var bundle = DetectorCatalog.CreateBundle(fixture.Detector, Calibrations(new ScoreCalibration(5, 1, 9, 99)), new Dictionary<string, string>(), DateTimeOffset.UnixEpoch);
            (bundle with { Manifest = bundle.Manifest with { Detector = "telepathy" } }).Save(path);
            var error = Assert.Throws<InvalidDataFileException>(() => DetectorCatalog.Load(path, CPU));
            Assert.Contains("unknown detector 'telepathy'", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unknown_detector_names_are_rejected_with_the_known_list()
    {
        var error = Assert.Throws<ArgumentException>(() => DetectorCatalog.Get("magic"));
        Assert.Contains("autoencoder", error.Message);
    }

    private IReadOnlyDictionary<string, ScoreCalibration> Calibrations(ScoreCalibration calibration) =>
        fixture.Detector.Variants.ToDictionary(v => v, _ => calibration);
}

public sealed class ResidualReductionTests
{
    [Fact]
    public void Sum_and_peak_agree_on_a_compact_blob_but_peak_ignores_spread_noise_of_the_same_total()
    {
        using var scope = NewDisposeScope();
        var blob = zeros(1, 4, 4);
        blob[0, 1, 1] = tensor(1f);
        blob[0, 1, 2] = tensor(1f);
        blob[0, 2, 1] = tensor(1f);
        blob[0, 2, 2] = tensor(1f);
        var spread = full(1, 4, 4, 0.25f);

        Assert.Equal(4.0, AutoencoderDetector.Reduce(blob, 0).item<float>(), 5);
        Assert.Equal(4.0, AutoencoderDetector.Reduce(spread, 0).item<float>(), 5);
        Assert.Equal(4.0, AutoencoderDetector.Reduce(blob, 2).item<float>(), 5);
        Assert.Equal(1.0, AutoencoderDetector.Reduce(spread, 2).item<float>(), 5);
    }
}
