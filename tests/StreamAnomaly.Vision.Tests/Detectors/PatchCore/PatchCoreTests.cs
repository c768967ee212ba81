using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Cycle;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
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
        var anomalous = normal.Select(f => TestFrames.WithSquare(f, 40, 8, 12)).ToArray();

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

public sealed class PatchContextTests
{
    private const int Channels = 256;

    /// <summary>A template of <paramref name="bins"/> bins over 4 cells whose bin j is the unit feature e_j in every cell.</summary>
    private static CycleTemplate Template(int bins)
    {
        var template = zeros(bins, 4, Channels);
        for (var j = 0; j < bins; j++)
        {
            template[j, .., j] = ones(4);
        }

        return new CycleTemplate(template, full(4, 0.25f), zeros(4));
    }

    /// <summary>Layer3 maps [N, 256, 2, 2] of frames that each show bin <paramref name="bins"/>[n] in every cell.</summary>
    private static Tensor Layer3(params int[] bins)
    {
        var map = zeros(bins.Length, Channels, 2, 2);
        foreach (var (bin, n) in bins.Select((b, n) => (b, n)))
        {
            map[n, bin] = full(2, 2, 5f);
        }

        return map;
    }

    [Fact]
    public void Each_row_carries_the_frames_phase_on_a_circle_and_the_patchs_place_in_the_frame()
    {
        using var scope = NewDisposeScope();
        // spread 2: phase scale a = pi * 2 / (2 pi) = 1, position scale b = 3 * 2 = 6
        using var context = new PatchContext(Template(4), spread: 2, new PatchCoreOptions { PhaseWeight = Math.PI, PositionWeight = 3 });
        var patches = randn(2, 5, 2, 4);

        var rows = context.Rows(patches, Layer3(1, 2));

        Assert.Equal([16L, 5 + PatchContext.Extra], rows.shape);
        Assert.True(rows[.., ..5].allclose(PatchFeatures.Rows(patches), rtol: 0, atol: 0));
        var extra = rows[.., 5..].data<float>().ToArray();
        // frame 0 shows bin 1 of 4 (phase 0.25: cos 0, sin 1), frame 1 bin 2 (phase 0.5: cos -1, sin 0)
        Assert.Equal([0f, 1f], [MathF.Round(extra[0], 5), MathF.Round(extra[1], 5)]);
        Assert.Equal([-1f, 0f], [MathF.Round(extra[8 * 4], 5), MathF.Round(extra[(8 * 4) + 1], 5)]);
        // patch 6 of a 2 x 4 grid is row 1, column 2: centre (1.5 / 2, 2.5 / 4) times 6
        Assert.Equal(6 * 1.5f / 2, extra[(6 * 4) + 2], 5);
        Assert.Equal(6 * 2.5f / 4, extra[(6 * 4) + 3], 5);
    }

    [Fact]
    public void Without_a_phase_weight_the_phase_coordinates_are_zero_and_no_cycle_is_needed()
    {
        using var scope = NewDisposeScope();
        using var context = new PatchContext(null, spread: 1, new PatchCoreOptions { PositionWeight = 2 });

        var rows = context.Rows(randn(1, 3, 2, 2), zeros(1, Channels, 1, 1));

        Assert.True(rows[.., 3..5].allclose(zeros(4, 2), rtol: 0, atol: 0));
        Assert.Equal(0, context.Bins);
    }

    [Fact]
    public void The_spread_is_the_root_mean_squared_distance_to_the_mean_row()
    {
        using var scope = NewDisposeScope();

        // rows (0, 0), (2, 0), (0, 2), (2, 2): mean (1, 1), every row sqrt 2 away from it
        Assert.Equal(Math.Sqrt(2), PatchContext.SpreadOf(tensor(new float[] { 0, 0, 2, 0, 0, 2, 2, 2 }, [4, 2])), 6);
    }

    [Fact]
    public void A_phase_weight_without_a_cycle_template_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new PatchContext(null, spread: 1, new PatchCoreOptions { PhaseWeight = 1 }));
    }
}

/// <summary>PatchCore with phase and position context (64 px), fitted once on periodic clips whose machine block goes round every 10 frames.</summary>
public sealed class PatchCoreContextFixture : IDisposable
{
    public const int Size = 64;
    public const double Period = 10;

    public PatchCoreContextFixture()
    {
        var clips = new[] { 0.0, 0.35, 0.7 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 40, Period, start, seed: c))).ToArray();
        var context = new FitContext(CPU, Seed: 1);
        var options = new PatchCoreOptions { Size = Size, CoresetFraction = 0.1, BlurSigma = 2 };
        var fitted = new PatchCoreDefinition().Fit(options with { PhaseWeight = 4, PositionWeight = 4 }, clips, TrainingFrames.AllNormal, context);
        (Detector, Facts) = ((PatchCoreDetector)fitted.Detector, fitted.Facts);
        Plain = (PatchCoreDetector)new PatchCoreDefinition().Fit(options, clips, TrainingFrames.AllNormal, context).Detector;
    }

    public PatchCoreDetector Detector { get; }

    public IReadOnlyDictionary<string, string> Facts { get; }

    /// <summary>The same bank without context.</summary>
    public PatchCoreDetector Plain { get; }

    public void Dispose()
    {
        Detector.Dispose();
        Plain.Dispose();
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class PatchCoreContextTests(PatchCoreContextFixture fixture) : IClassFixture<PatchCoreContextFixture>
{
    private const int Size = PatchCoreContextFixture.Size;

    /// <summary>Frames of the periodic machine with a second machine block drawn where the block is half a cycle later.</summary>
    private static Frame[] WithBlockHalfACycleAhead(Frame[] frames, double start) => frames.Select((frame, i) =>
    {
        var angle = 2 * Math.PI * (PeriodicFrames.Phase(i, PatchCoreContextFixture.Period, start) + 0.5);
        double cx = (Size / 2.0) + (Size * 0.25 * Math.Cos(angle)), cy = (Size * 0.6) + (Size * 0.2 * Math.Sin(angle));
        var side = Size / 5;
        var bgr = frame.Bgr.ToArray();
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                if (Math.Abs(x - cx) < side / 2.0 && Math.Abs(y - cy) < side / 2.0)
                {
                    var k = ((y * Size) + x) * 3;
                    (bgr[k], bgr[k + 1], bgr[k + 2]) = (230, 200, 40);
                }
            }
        }

        return new Frame(Size, Size, bgr);
    }).ToArray();

    /// <summary>How far the lowest anomalous score stands above the highest normal one, in units of the highest normal one.</summary>
    private static double Margin(PatchCoreDetector detector, Frame[] normal, Frame[] anomalous) =>
        (detector.ScoreSequence(anomalous).Min(s => s.RawScore) / detector.ScoreSequence(normal).Max(s => s.RawScore)) - 1;

    [Fact]
    public void Fitting_learns_the_machines_cycle_with_the_bank()
    {
        Assert.Equal(10, fixture.Detector.PhaseBins);
        Assert.Equal("10", fixture.Facts["phaseBins"]);
        Assert.Equal(384 + PatchContext.Extra, PatchCoreDetector.Dimension(fixture.Detector.Options));
    }

    [Fact]
    public void A_machine_part_where_it_only_is_at_another_moment_of_the_cycle_stands_out_further_with_context_than_without()
    {
        var normal = PeriodicFrames.Clip(Size, 20, PatchCoreContextFixture.Period, 0.15, seed: 7);
        var anomalous = WithBlockHalfACycleAhead(normal, 0.15);

        var withContext = Margin(fixture.Detector, normal, anomalous);
        var without = Margin(fixture.Plain, normal, anomalous);

        Assert.True(withContext > 0, $"with context the lowest anomalous frame is {withContext:P0} above the highest normal one");
        Assert.True(withContext > without + 0.2, $"margin with context {withContext:P0}, without {without:P0}");
    }

    [Fact]
    public void A_context_bundle_reloads_to_the_same_scores()
    {
        var frames = PeriodicFrames.Clip(Size, 4, PatchCoreContextFixture.Period, 0.4, seed: 9);
        var expected = fixture.Detector.ScoreSequence(frames).Select(s => s.RawScore).ToArray();

        using var reloaded = PatchCoreDetector.Load(fixture.Detector.Options, fixture.Detector.ExportWeights(), fixture.Detector.ExportState(), "b.sabundle", CPU);

        Assert.Equal(expected, reloaded.ScoreSequence(frames).Select(s => s.RawScore), (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Fact]
    public void A_context_bundle_without_its_feature_spread_is_refused()
    {
        var state = fixture.Detector.ExportState()!;
        state.Remove("featureSpread");

        var error = Assert.Throws<InvalidDataFileException>(() => PatchCoreDetector.Load(fixture.Detector.Options, fixture.Detector.ExportWeights(), state, "b.sabundle", CPU));

        Assert.Contains("needs a positive featureSpread", error.Message);
    }

    [Fact]
    public void Scoring_with_context_leaves_no_tensor_alive()
    {
        var frames = PeriodicFrames.Clip(Size, 3, PatchCoreContextFixture.Period, 0.2, seed: 4);
        fixture.Detector.ScoreSequence(frames);
        var before = LeakProbe.LiveTensors;

        fixture.Detector.ScoreSequence(frames);

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
