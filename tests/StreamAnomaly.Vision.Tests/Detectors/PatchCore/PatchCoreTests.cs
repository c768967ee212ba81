using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.PatchCore;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.PatchCore;

public sealed class CoresetTests
{
    [Fact]
    public void Greedy_selection_takes_one_point_from_each_far_apart_cluster_before_a_second_from_any()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var centres = tensor(new float[] { 0, 0, 100, 0, 0, 100 }, [3, 2]);
        var points = centres.repeat_interleave(50, 0).Plus(randn([150, 2], generator: generator));

        var chosen = Coreset.Greedy(points, 3, projection: 0, generator);

        Assert.Equal([0L, 1L, 2L], chosen.Select(i => i / 50).Order());
    }

    [Fact]
    public void Asking_for_every_point_returns_each_once()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var points = randn([20, 8], generator: generator);

        var chosen = Coreset.Greedy(points, 20, projection: 4, generator);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), chosen.Order());
    }

    [Fact]
    public void The_same_seed_chooses_the_same_points()
    {
        using var scope = NewDisposeScope();
        var points = randn([200, 16], generator: new Generator(1));

        Assert.Equal(Coreset.Greedy(points, 10, 8, new Generator(9)), Coreset.Greedy(points, 10, 8, new Generator(9)));
    }
}

/// <summary>One small PatchCore bank (64 px, a tenth of the patches) fitted once on periodic background clips.</summary>
public sealed class PatchCoreFixture : IDisposable
{
    public const int Size = 64;

    public PatchCoreFixture()
    {
        var clips = new[] { 0.0, 0.5 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 30, 10, start, seed: c))).ToArray();
        var options = new PatchCoreOptions { Size = Size, CoresetFraction = 0.1, BlurSigma = 2 };
        Detector = (PatchCoreDetector)new PatchCoreDefinition().Fit(options, clips, TrainingFrames.AllNormal, new FitContext(CPU, Seed: 1)).Detector;
    }

    public PatchCoreDetector Detector { get; }

    public void Dispose() => Detector.Dispose();
}

public sealed class PatchCoreDetectorTests(PatchCoreFixture fixture) : IClassFixture<PatchCoreFixture>
{
    private const int Size = PatchCoreFixture.Size;

    private static Frame WithSquare(Frame frame, int x, int y, int side)
    {
        var bgr = frame.Bgr.ToArray();
        for (var row = y; row < y + side; row++)
        {
            for (var column = x; column < x + side; column++)
            {
                var i = ((row * frame.Width) + column) * 3;
                (bgr[i], bgr[i + 1], bgr[i + 2]) = ((byte)20, (byte)240, (byte)20);
            }
        }

        return new Frame(frame.Width, frame.Height, bgr);
    }

    [Fact]
    public void Features_are_one_384_d_vector_per_eighth_of_the_input_side()
    {
        using var scope = NewDisposeScope();
        using var backbone = PretrainedResNet18.Load();
        var input = backbone.Preprocessing.FromFrames(PeriodicFrames.Clip(Size, 2, 10, 0, seed: 1), Size, Size);

        var features = PatchFeatures.Of(backbone, input, neighbourhood: 3);

        Assert.Equal([2L, 384, Size / 8, Size / 8], features.shape);
        Assert.Equal(384, PatchFeatures.Dimension);
    }

    [Fact]
    public void The_bank_holds_a_tenth_of_the_training_patches()
    {
        // 60 frames x 8 x 8 patches, in one chunk: 384 patches kept
        Assert.Equal(384, fixture.Detector.BankPatches);
    }

    [Fact]
    public void A_foreign_square_scores_above_every_normal_frame_and_peaks_the_map_where_it_is()
    {
        var normal = PeriodicFrames.Clip(Size, 6, 10, 0.25, seed: 7);
        var anomalous = normal.Select(f => WithSquare(f, 40, 8, 12)).ToArray();

        var normalScores = fixture.Detector.ScoreSequence(normal);
        var anomalousScores = fixture.Detector.ScoreSequence(anomalous);

        Assert.True(anomalousScores.Min(s => s.RawScore) > normalScores.Max(s => s.RawScore), $"square {anomalousScores.Min(s => s.RawScore)} vs normal {normalScores.Max(s => s.RawScore)}");
        var map = anomalousScores[0].Residual;
        var peak = Array.IndexOf(map.Values, map.Values.Max());
        // within one patch (8 px) of the square [40, 52) x [8, 20)
        Assert.InRange(peak % Size, 32, 60);
        Assert.InRange(peak / Size, 0, 28);
        Assert.Equal((Size, Size), (map.Width, map.Height));
    }

    [Fact]
    public void The_score_is_the_largest_patch_distance_and_says_it_is_a_peak_for_fusion()
    {
        var score = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 6, 1, 0.25, seed: 7))[0];

        Assert.Equal(ScoreReduction.Peak, score.Reduction);
        Assert.InRange(score.Residual.Values.Max(), 0, score.RawScore + 1e-4); // the map is the distances upsampled and blurred
    }

    [Fact]
    public void A_bundle_whose_bank_does_not_match_the_feature_size_is_refused_saying_so()
    {
        var state = new JsonObject { ["bankPatches"] = 384, ["featureDimension"] = 100 };

        var error = Assert.Throws<InvalidDataFileException>(() => PatchCoreDetector.Load(new PatchCoreOptions(), fixture.Detector.ExportWeights(), state, "b.sabundle", CPU));

        Assert.Equal("b.sabundle: corrupted model bundle (its memory bank holds 100-d patch features; this build's pretrained ResNet-18 makes 384-d ones)", error.Message);
    }

    [Fact]
    public void A_bundle_without_the_bank_size_is_refused()
    {
        var error = Assert.Throws<InvalidDataFileException>(() => PatchCoreDetector.Load(new PatchCoreOptions(), fixture.Detector.ExportWeights(), null, "b.sabundle", CPU));

        Assert.Contains("patchcore state has no bankPatches", error.Message);
    }

    [Fact]
    public void A_bundle_whose_bank_has_another_number_of_patches_than_its_weights_is_refused()
    {
        var state = new JsonObject { ["bankPatches"] = 12, ["featureDimension"] = 384 };

        var error = Assert.Throws<InvalidDataFileException>(() => PatchCoreDetector.Load(new PatchCoreOptions(), fixture.Detector.ExportWeights(), state, "b.sabundle", CPU));

        Assert.Contains("weights do not fit the patchcore network", error.Message);
    }

    [Fact]
    public void Fitting_without_usable_frames_is_refused_naming_them()
    {
        var clip = new FrameClip("c", PeriodicFrames.Clip(Size, 3, 10, 0, seed: 1), [.. Enumerable.Range(0, 3).Select(i => new FrameLabel(i, 0, "people"))]);

        var error = Assert.Throws<ArgumentException>(() => new PatchCoreDefinition().Fit(new PatchCoreOptions { Size = Size }, [clip], TrainingFrames.Of("background"), new FitContext(CPU)));

        Assert.Equal("no normal frames of category background to build the memory bank from", error.Message);
    }
}
