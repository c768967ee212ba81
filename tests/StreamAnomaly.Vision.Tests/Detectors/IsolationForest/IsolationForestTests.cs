using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.IsolationForest;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.IsolationForest;

public sealed class ForestTests
{
    private static float[][] Cluster(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new[] { (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
    }

    [Fact]
    public void The_average_path_is_the_papers_c_of_n_computed_from_the_harmonic_number()
    {
        static double Exact(int n) => (2 * Enumerable.Range(1, n - 1).Sum(static k => 1.0 / k)) - (2.0 * (n - 1) / n);

        Assert.Equal(Exact(256), Forest.AveragePath(256), tolerance: 0.01);
        Assert.Equal(Exact(4096), Forest.AveragePath(4096), tolerance: 0.001);
        Assert.Equal(1, Forest.AveragePath(2));
        Assert.Equal(0, Forest.AveragePath(1));
    }

    [Fact]
    public void Trees_of_two_samples_isolate_every_vector_in_one_split_so_every_score_is_one_half()
    {
        using var forest = Forest.Grow(Cluster(40, seed: 1), trees: 20, samples: 2, seed: 3);

        Assert.All(new[] { new float[] { 0.5f, 0.5f }, [100, -100] }, v => Assert.Equal(0.5, forest.Score(v), 12));
    }

    [Fact]
    public void A_vector_in_the_gap_between_two_clusters_scores_above_every_vector_of_them()
    {
        var clusters = Cluster(150, seed: 1).Concat(Cluster(150, seed: 2).Select(static v => new[] { v[0] + 10, v[1] + 10 })).ToArray();
        using var forest = Forest.Grow(clusters, trees: 100, samples: 256, seed: 3);

        var gap = forest.Score([5.5f, 5.5f]);

        Assert.True(gap > clusters.Max(v => forest.Score(v)), $"gap {gap}");
        Assert.True(gap > 0.6, $"an isolated vector scores towards 1, got {gap}");
        Assert.InRange(clusters.Average(v => forest.Score(v)), 0.3, 0.55);
    }

    [Fact]
    public void Trees_are_cut_at_the_height_limit_of_their_subsample()
    {
        using var forest = Forest.Grow(Cluster(100, seed: 1), trees: 3, samples: 16, seed: 3);

        Assert.Equal(16, forest.Samples);
        Assert.Equal(31, forest.Nodes);
    }

    [Fact]
    public void The_same_seed_grows_the_same_forest()
    {
        var cluster = Cluster(100, seed: 1);
        using var a = Forest.Grow(cluster, trees: 10, samples: 32, seed: 7);
        using var b = Forest.Grow(cluster, trees: 10, samples: 32, seed: 7);

        Assert.Equal(ModuleWeights.Export(a), ModuleWeights.Export(b));
    }

    [Fact]
    public void A_bundle_whose_trees_split_features_the_backbone_does_not_make_is_refused_naming_the_file()
    {
        var random = new Random(1);
        var wide = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 5000).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        using var forest = Forest.Grow(wide, trees: 2, samples: 64, seed: 3);
        var state = new JsonObject { ["samples"] = 64, ["featureDimension"] = 384L };

        var error = Assert.Throws<InvalidDataFileException>(() => IsolationForestDetector.Load(new IsolationForestOptions { Trees = 2, Samples = 64 }, ModuleWeights.Export(forest), state, "m.sabundle", CPU));

        Assert.Contains("m.sabundle", error.Message, StringComparison.Ordinal);
        Assert.Contains("split feature lies outside -1 .. 383", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>One small isolation forest (64 px) fitted once on periodic background clips.</summary>
public sealed class IsolationForestFixture : IDisposable
{
    public const int Size = 64;

    public IsolationForestFixture()
    {
        var clips = new[] { 0.0, 0.5 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 30, 10, start, seed: c))).ToArray();
        Detector = (IsolationForestDetector)new IsolationForestDefinition().Fit(new IsolationForestOptions { Size = Size, Trees = 100, Samples = 32 }, clips, TrainingFrames.AllNormal, new FitContext(CPU, Seed: 1)).Detector;
    }

    public IsolationForestDetector Detector { get; }

    public void Dispose() => Detector.Dispose();
}

public sealed class IsolationForestDetectorTests(IsolationForestFixture fixture) : IClassFixture<IsolationForestFixture>
{
    private const int Size = IsolationForestFixture.Size;

    [Fact]
    public void A_large_foreign_square_scores_above_every_normal_frame()
    {
        var normal = PeriodicFrames.Clip(Size, 6, 10, 0.25, seed: 7);
        var anomalous = normal.Select(f => TestFrames.WithSquare(f, 16, 16, 32)).ToArray();

        var normalScores = fixture.Detector.ScoreSequence(normal);
        var anomalousScores = fixture.Detector.ScoreSequence(anomalous);

        Assert.True(anomalousScores.Min(s => s.RawScore) > normalScores.Max(s => s.RawScore), $"square {anomalousScores.Min(s => s.RawScore)} vs normal {normalScores.Max(s => s.RawScore)}");
    }

    [Fact]
    public void Each_tree_is_grown_on_at_most_the_samples_option()
    {
        Assert.Equal(32, fixture.Detector.Samples);
    }

    [Fact]
    public void Its_map_is_uniform_and_fusion_takes_the_score_as_a_peak()
    {
        var score = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7))[0];

        Assert.Equal(ScoreReduction.Peak, score.Reduction);
        Assert.All(score.Residual.Values, v => Assert.Equal(score.RawScore, v, 4));
    }

    [Fact]
    public void A_single_training_frame_is_refused()
    {
        var clips = new[] { (ILabelledClip)new FrameClip("c", PeriodicFrames.Clip(Size, 1, 10, 0, seed: 1)) };

        var error = Assert.Throws<ArgumentException>(() => new IsolationForestDefinition().Fit(new IsolationForestOptions { Size = Size }, clips, TrainingFrames.AllNormal, new FitContext(CPU)));

        Assert.Contains("at least 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_size_not_a_multiple_of_32_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new IsolationForestOptions { Size = 100 }));

        Assert.Equal("option 'size': must be a multiple of 32", error.Message);
    }
}
