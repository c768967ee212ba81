using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Lof;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Lof;

public sealed class NormalFramesTests
{
    /// <summary>LOF written out from its definition (Breunig et al. 2000), on doubles.</summary>
    private static double[] ReferenceLof(double[][] points, double[][] queries, int k)
    {
        double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, static (x, y) => (x - y) * (x - y)).Sum());
        int[] Neighbours(double[] p, int? self) => Enumerable.Range(0, points.Length).Where(i => i != self).OrderBy(i => Distance(p, points[i])).Take(k).ToArray();
        var kdistance = points.Select((p, i) => Distance(p, points[Neighbours(p, i)[^1]])).ToArray();
        double Density(double[] p, int? self) => 1 / Neighbours(p, self).Average(o => Math.Max(Distance(p, points[o]), kdistance[o]));
        var density = points.Select((p, i) => Density(p, i)).ToArray();
        return queries.Select(q => Neighbours(q, null).Average(o => density[o]) / Density(q, null)).ToArray();
    }

    [Fact]
    public void The_score_is_the_local_outlier_factor_of_its_definition()
    {
        using var scope = NewDisposeScope();
        double[][] points = [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5], [5, 5], [5.5, 5], [9, 1]];
        double[][] queries = [[0.4, 0.6], [5.2, 5.1], [3, 3], [20, 20]];
        var k = 3;
        using var normal = NormalFrames.Fit(tensor(points.SelectMany(static p => p).ToArray(), [points.Length, 2]), k);

        var lof = normal.Factor(tensor(queries.SelectMany(static p => p).ToArray(), [queries.Length, 2]), k).data<double>().ToArray();

        var expected = ReferenceLof(points, queries, k);
        for (var i = 0; i < queries.Length; i++)
        {
            Assert.Equal(expected[i], lof[i], 9);
        }

        Assert.True(lof[3] > lof[2] && lof[2] > lof[0], "the farther from the normal clusters, the higher");
    }
}

/// <summary>One small LOF model (64 px) fitted once on periodic background clips.</summary>
public sealed class LofFixture : IDisposable
{
    public const int Size = 64;

    public LofFixture()
    {
        var clips = new[] { 0.0, 0.5 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 30, 10, start, seed: c))).ToArray();
        Detector = (LofDetector)new LofDefinition().Fit(new LofOptions { Size = Size, Neighbours = 5 }, clips, TrainingFrames.AllNormal, new FitContext(CPU, Seed: 1)).Detector;
    }

    public LofDetector Detector { get; }

    public void Dispose() => Detector.Dispose();
}

public sealed class LofDetectorTests(LofFixture fixture) : IClassFixture<LofFixture>
{
    private const int Size = LofFixture.Size;

    [Fact]
    public void Every_training_frame_is_kept_when_they_are_fewer_than_the_limit()
    {
        Assert.Equal(60, fixture.Detector.NormalFrameCount);
    }

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
    public void Normal_frames_score_near_one_as_a_local_outlier_factor_does()
    {
        var scores = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 6, 10, 0.25, seed: 7));

        Assert.All(scores, s => Assert.InRange(s.RawScore, 0.5, 2.0));
    }

    [Fact]
    public void Its_map_is_uniform_and_fusion_takes_the_score_as_a_peak()
    {
        var score = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7))[0];

        Assert.Equal(ScoreReduction.Peak, score.Reduction);
        Assert.All(score.Residual.Values, v => Assert.Equal(score.RawScore, v, 4));
    }

    [Fact]
    public void Fewer_training_frames_than_neighbours_are_refused_naming_the_option()
    {
        var clips = new[] { (ILabelledClip)new FrameClip("c", PeriodicFrames.Clip(Size, 4, 10, 0, seed: 1)) };

        var error = Assert.Throws<ArgumentException>(() => new LofDefinition().Fit(new LofOptions { Size = Size, Neighbours = 5 }, clips, TrainingFrames.AllNormal, new FitContext(CPU)));

        Assert.Contains("more than 5 (Neighbours)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Neighbours_not_below_the_frames_kept_are_refused_naming_both()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new LofOptions { Neighbours = 50, MaxFrames = 50 }));

        Assert.Equal("option 'neighbours': must be below maxFrames (50)", error.Message);
    }

    [Fact]
    public void A_size_not_a_multiple_of_32_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new LofOptions { Size = 100 }));

        Assert.Equal("option 'size': must be a multiple of 32", error.Message);
    }
}
