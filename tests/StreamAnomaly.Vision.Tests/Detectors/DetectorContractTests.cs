using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Streaming;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors;

/// <summary>
/// A tiny clip set every detector can learn from: a machine moving round a periodic cycle (64 px),
/// background clips for training and validation, and clips in which a bright square (a worker's
/// hand) is in view, labelled normal-object.
/// </summary>
public sealed class ContractSuite : IDisposable
{
    public const int Size = 64;

    /// <summary>The colour of the square standing for a worker's hand (and, in the test frames, for a foreign object).</summary>
    private static readonly (byte B, byte G, byte R) Hand = (250, 20, 250);

    public ContractSuite()
    {
        Train =
        [
            Labelled("background-0", PeriodicFrames.Clip(Size, 40, 10, 0.0, seed: 1), "background"),
            Labelled("background-1", PeriodicFrames.Clip(Size, 40, 10, 0.4, seed: 2), "background"),
            Labelled("hand", PeriodicFrames.Clip(Size, 12, 10, 0.2, seed: 3).Select((f, i) => Tests.TestFrames.WithSquare(f, 8 + (i * 3), 30, 12, Hand)).ToArray(), "normal-object"),
        ];
        Validation = [Labelled("val", PeriodicFrames.Clip(Size, 30, 10, 0.7, seed: 4), "background")];
        Bundles = DetectorCatalog.All.ToDictionary(d => d.Name, d =>
            DetectorLifecycle.Train(d, d.Quick, new TrainingSet(Train, Validation, TrainingFrames.Of("background")), new FitContext(CPU, Seed: 5), TimeProvider.System));
    }

    public IReadOnlyList<ILabelledClip> Train { get; }

    public IReadOnlyList<ILabelledClip> Validation { get; }

    /// <summary>Every catalog detector fitted on <see cref="Train"/> with its quick options and calibrated on <see cref="Validation"/>.</summary>
    public IReadOnlyDictionary<string, TrainedBundle> Bundles { get; }

    /// <summary>Consecutive frames of one camera, the last ones with a foreign square.</summary>
    public static Frame[] TestFrames(int count) =>
        PeriodicFrames.Clip(Size, count, 10, 0.1, seed: 9).Select((f, i) => i < count / 2 ? f : Tests.TestFrames.WithSquare(f, 20, 10, 12, Hand)).ToArray();

    public void Dispose()
    {
        foreach (var bundle in Bundles.Values)
        {
            bundle.Dispose();
        }
    }

    private static FrameClip Labelled(string name, Frame[] frames, string category) =>
        new(name, frames, frames.Select((_, i) => new FrameLabel(i, 0, category)).ToArray());

}

/// <summary>
/// The detector contract, run over every name in the catalog: a detector gets these tests by being
/// registered (anomalib's one test over every model).
/// </summary>
[Collection(nameof(SeededTorchCollection))]
public sealed class DetectorContractTests(ContractSuite suite) : IClassFixture<ContractSuite>
{
    public static TheoryData<string> Names => new(DetectorCatalog.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Fitting_yields_a_bundle_with_every_calibrated_variant_named_after_the_detector(string name)
    {
        var trained = suite.Bundles[name];

        Assert.Equal(name, trained.Bundle.Manifest.Detector);
        Assert.Equal(name, trained.Detector.Kind);
        Assert.Contains(trained.Detector.Variants[0], trained.Bundle.Manifest.Calibrations.Keys);
        Assert.All(trained.Bundle.Manifest.Calibrations.Keys, v => Assert.Contains(v, trained.Detector.Variants));
        Assert.Equal(DetectorCatalog.Get(name).Quick, trained.Detector.Options);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Calibration_puts_the_threshold_of_every_variant_at_one_half(string name)
    {
        foreach (var calibration in suite.Bundles[name].Bundle.Manifest.Calibrations.Values)
        {
            Assert.Equal(0.5, calibration.Normalize(calibration.Threshold), 12);
            Assert.InRange(calibration.Threshold, calibration.Min, calibration.Max);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_default_variant_scores_as_score_sequence_does_and_every_score_is_finite(string name)
    {
        var detector = suite.Bundles[name].Detector;
        var frames = ContractSuite.TestFrames(12);

        var variants = detector.ScoreVariants(frames, ScoringContext.None);
        var sequence = detector.ScoreSequence(frames);

        Assert.Equal(detector.Variants.Count, variants.Count);
        Assert.Equal(sequence.Select(s => s.RawScore), variants[0]!.Select(s => s.RawScore));
        Assert.All(variants.OfType<IReadOnlyList<RawFrameScore>>(), v => Assert.All(v, s => Assert.True(double.IsFinite(s.RawScore) && s.RawScore >= 0, $"{s.RawScore}")));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_saved_bundle_loads_into_a_detector_that_scores_identically(string name)
    {
        var trained = suite.Bundles[name];
        var path = Path.Combine(Path.GetTempPath(), $"contract-{name}-{Guid.NewGuid():N}.sabundle");
        try
        {
            trained.Bundle.Save(path);
            using var loaded = DetectorCatalog.Load(path, CPU);
            var frames = ContractSuite.TestFrames(10);

            Assert.Equal(trained.Detector.Options, loaded.Detector.Options);
            Assert.Equal(trained.Bundle.Manifest.Calibrations, loaded.Manifest.Calibrations);
            Assert.Equal(trained.Detector.ScoreSequence(frames).Select(s => s.RawScore), loaded.Detector.ScoreSequence(frames).Select(s => s.RawScore));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void An_option_out_of_its_limits_is_refused_naming_it(string name)
    {
        var definition = DetectorCatalog.Get(name);
        var option = DetectorOptionsJson.Describe(definition.Defaults).First(o => o.Type == "an integer");

        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.With(definition.Quick, [$"{option.Name}=-1000000"]));

        Assert.StartsWith($"option '{option.Name}': ", error.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_bundle_whose_weights_do_not_fit_its_options_is_refused_naming_the_file(string name)
    {
        var bundle = suite.Bundles[name].Bundle;
        byte[] weights = [.. bundle.Weights.Take(bundle.Weights.Length / 2)];
        var truncated = bundle with { Weights = weights };

        var error = Assert.Throws<InvalidDataFileException>(() => DetectorCatalog.Load(truncated, "truncated.sabundle", CPU));

        Assert.StartsWith("truncated.sabundle: corrupted model bundle", error.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Scoring_every_variant_leaves_no_live_tensor_behind(string name)
    {
        var detector = suite.Bundles[name].Detector;
        var frames = ContractSuite.TestFrames(9);
        var roi = new ScoringContext(BinaryMask.Empty(ContractSuite.Size, ContractSuite.Size).Inverted());
        detector.ScoreVariants(frames, roi);

        var before = LeakProbe.LiveTensors;
        detector.ScoreVariants(frames, roi);

        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_streaming_scorer_gives_each_frame_the_score_of_its_window_once_the_window_is_full(string name)
    {
        var detector = suite.Bundles[name].Detector;
        var frames = ContractSuite.TestFrames(10);
        var scorer = new DetectorFrameScorer(detector, suite.Bundles[name].Bundle.Manifest.Calibrations[detector.Variants[0]], gridSize: 8);

        var streamed = frames.Select((frame, i) => scorer.Score([(new FrameKey("cam", i), frame)])[0].RawScore).ToArray();

        // before its window is full a frame is not judged (score 0)
        var expected = frames.Select((_, i) => i < detector.History - 1 ? 0 : detector.ScoreSequence(frames[(i - detector.History + 1)..(i + 1)])[^1].RawScore);
        Assert.Equal(expected, streamed, static (a, b) => Math.Abs(a - b) <= 1e-5 * Math.Max(1, Math.Abs(a)));
    }
}
