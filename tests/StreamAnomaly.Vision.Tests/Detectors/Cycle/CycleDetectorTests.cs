using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Vision.Streaming;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Cycle;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Cycle;

/// <summary>One cycle detector (64 px) fitted once on periodic clips whose machine goes round every 10 frames.</summary>
public sealed class CycleFixture : IDisposable
{
    public const int Size = 64;
    public const double Period = 10;

    public CycleFixture()
    {
        var clips = new[] { 0.0, 0.35, 0.7 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 50, Period, start, seed: c))).ToArray();
        var fitted = new CycleDefinition().Fit(new CycleOptions { Size = Size }, clips, TrainingFrames.AllNormal, new FitContext(CPU, Seed: 1));
        Detector = (CycleDetector)fitted.Detector;
        Facts = fitted.Facts;
    }

    public CycleDetector Detector { get; }

    public IReadOnlyDictionary<string, string> Facts { get; }

    /// <summary>Mean raw score of the last <paramref name="count"/> frames of <paramref name="frames"/>.</summary>
    public double Tail(Frame[] frames, int count) => Detector.ScoreSequence(frames).TakeLast(count).Average(s => s.RawScore);

    public void Dispose() => Detector.Dispose();
}

[Collection(nameof(SeededTorchCollection))]
public sealed class CycleDetectorTests(CycleFixture fixture) : IClassFixture<CycleFixture>
{
    private static Frame[] Normal(int count) => PeriodicFrames.Clip(CycleFixture.Size, count, CycleFixture.Period, 0.15, seed: 7);

    [Fact]
    public void Fitting_finds_the_machines_period_and_one_phase_bin_per_frame_of_it()
    {
        Assert.InRange(fixture.Detector.Facts.Period, 9.5, 10.5);
        Assert.Equal(10, fixture.Detector.Bins);
        Assert.Equal(3, fixture.Detector.History);
        Assert.Equal("10", fixture.Facts["phaseBins"]);
    }

    [Fact]
    public void Each_frame_carries_a_phase_that_advances_a_tenth_of_the_cycle_per_frame()
    {
        var phases = fixture.Detector.ScoreSequence(Normal(30)).Select(s => s.Phase!.Value).ToArray();

        var steps = phases.Zip(phases.Skip(1), (a, b) => ((b - a + 1.5) % 1) - 0.5).ToArray(); // in [-0.5, 0.5)
        Assert.All(phases, p => Assert.InRange(p, 0, 1));
        Assert.InRange(steps.Average(), 0.09, 0.11);
        Assert.All(steps, s => Assert.InRange(s, -0.15, 0.35));
    }

    [Fact]
    public void A_machine_standing_still_scores_higher_than_one_running_its_cycle()
    {
        var running = Normal(30);
        var stalled = running.Take(15).Concat(Enumerable.Repeat(running[14], 15)).ToArray();

        Assert.True(fixture.Tail(stalled, 10) > 3 * fixture.Tail(running, 10), $"stalled {fixture.Tail(stalled, 10)}, running {fixture.Tail(running, 10)}");
    }

    [Fact]
    public void A_cycle_run_twice_as_fast_scores_higher_than_the_normal_pace()
    {
        var running = Normal(60);
        var fast = running.Take(20).Concat(running.Skip(20).Where((_, i) => i % 2 == 0)).ToArray();

        Assert.True(fixture.Tail(fast, 10) > 3 * fixture.Tail(running, 10), $"fast {fixture.Tail(fast, 10)}, running {fixture.Tail(running, 10)}");
    }

    [Fact]
    public void A_worker_batch_of_two_cameras_scores_each_frame_at_the_end_of_its_own_cameras_window()
    {
        var running = Normal(14);
        var stalled = running.Take(7).Concat(Enumerable.Repeat(running[6], 7)).Select(static f => new Frame(f.Width, f.Height, f.Bgr.ToArray())).ToArray();
        var scorer = new DetectorFrameScorer(fixture.Detector, new Core.Scoring.ScoreCalibration(1, 0, 2, 99), gridSize: 4); // not disposed: the detector is the fixture's

        var streamed = running.Select((f, i) => scorer.Score([(new FrameKey("a", i), f), (new FrameKey("b", i), stalled[i])])).ToArray();

        var history = fixture.Detector.History;
        Assert.True(history < running.Length, $"the cycle window ({history} frames) fits in the clip");
        for (var i = 0; i < running.Length; i++)
        {
            var from = i - history + 1;
            Assert.Equal(from < 0 ? 0 : fixture.Detector.ScoreSequence(running[from..(i + 1)])[^1].RawScore, streamed[i][0].RawScore, 1e-4);
            Assert.Equal(from < 0 ? 0 : fixture.Detector.ScoreSequence(stalled[from..(i + 1)])[^1].RawScore, streamed[i][1].RawScore, 1e-4);
        }
    }

    [Fact]
    public void Every_score_carries_the_background_cells_as_its_ignore_mask()
    {
        var scores = fixture.Detector.ScoreSequence(Normal(12));
        var cellSide = CycleFixture.Size / CycleFeatures.Grid(CycleFixture.Size);

        Assert.All(scores, s => Assert.Equal(fixture.Detector.BackgroundCells * cellSide * cellSide, s.Ignored?.Area ?? 0));
        Assert.Contains($"{fixture.Detector.BackgroundCells} of ", fixture.Facts["backgroundCells"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_anomaly_map_covers_the_input()
    {
        var score = fixture.Detector.ScoreSequence(Normal(5))[^1];

        Assert.Equal((CycleFixture.Size, CycleFixture.Size), (score.Residual.Width, score.Residual.Height));
        Assert.All(score.Residual.Values, v => Assert.True(v >= 0 && float.IsFinite(v)));
    }

    [Fact]
    public void Fitting_on_frames_without_a_cycle_names_the_run_it_looked_at()
    {
        var still = Enumerable.Repeat(Normal(1)[0], 30).ToArray();
        ILabelledClip[] clips = [new FrameClip("still-camera", still)];

        var error = Assert.Throws<ArgumentException>(() => new CycleDefinition().Fit(new CycleOptions { Size = CycleFixture.Size }, clips, TrainingFrames.AllNormal, new FitContext(CPU)));

        Assert.Contains("still-camera", error.Message);
    }

    [Fact]
    public void Fitting_on_single_frames_says_it_needs_consecutive_ones()
    {
        var frames = Normal(3);
        ILabelledClip[] clips = [new FrameClip("stills", frames, [new FrameLabel(0, 0, "background"), new FrameLabel(1, 1, "defect"), new FrameLabel(2, 0, "background")])];

        var error = Assert.Throws<ArgumentException>(() => new CycleDefinition().Fit(new CycleOptions { Size = CycleFixture.Size }, clips, TrainingFrames.AllNormal, new FitContext(CPU)));

        Assert.Contains("consecutive", error.Message);
    }

    [Theory]
    [InlineData(1, 10.0, "cycle state needs bins >= 2")]
    [InlineData(10, -1.0, "cycle state needs bins >= 2")]
    [InlineData(10_000_000, 10.0, "a template of 10000000 phase bins x 16 cells")]
    public void A_bundle_whose_cycle_state_does_not_hold_is_refused_naming_the_file(int bins, double period, string message)
    {
        var state = new JsonObject { ["bins"] = bins, ["period"] = period };

        var error = Assert.Throws<InvalidDataFileException>(() => CycleDetector.Load(fixture.Detector.Options, fixture.Detector.ExportWeights(), state, "x.sabundle", CPU));

        Assert.StartsWith("x.sabundle: corrupted model bundle (", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(new double[] { 0.1, 0.3, 0.5, 0.7, 0.9, 0.1, 0.3, 0.5, 0.7, 0.9, 0.1 }, new[] { 5.0 })]
    [InlineData(new double[] { 0.5, 0.9, 0.2, 0.5, 0.9, 0.3, 0.6, 0.95, 0.1 }, new[] { 4.25 - (4 / 3.0), 7 + (1 / 3.0) - 4.25 })]
    [InlineData(new double[] { 0.3, 0.6, 0.9, 0.05, 0.97, 0.02, 0.3 }, new double[0])]
    public void Complete_cycles_are_the_spans_between_wraps_of_the_aligned_position_past_the_middle(double[] shares, double[] expected)
    {
        var cycles = CycleDefinition.CompleteCycles(shares.Select(s => s * 30).ToArray(), 30).ToArray();

        Assert.Equal(expected.Length, cycles.Length);
        Assert.All(expected.Zip(cycles), pair => Assert.Equal(pair.First, pair.Second, 6)); // times are whole ticks (100 ns)
    }
}

public sealed class CycleTemplateTests
{
    [Fact]
    public void Cells_that_do_not_follow_the_cycle_are_background_and_the_cycling_cell_is_not()
    {
        // Three cells of 2-d unit features over 4 phase bins (one frame each, so a bin's sum is its mean):
        // cell 0 turns with the cycle (the arm), cell 1 averages to half length in every bin (features
        // that differ from frame to frame whatever the phase: people), cell 2 never changes (a wall).
        var means = new double[4, 3, 2];
        for (var j = 0; j < 4; j++)
        {
            (means[j, 0, 0], means[j, 0, 1]) = (Math.Cos(j * Math.PI / 2), Math.Sin(j * Math.PI / 2));
            (means[j, 1, 0], means[j, 2, 0]) = (0.5, 1);
        }

        using var sums = tensor(means.Cast<double>().ToArray(), [4, 3, 2]);
        using var counts = ones(4, ScalarType.Float64);
        using var template = CycleTemplate.Learn(sums, counts);

        Assert.Equal([false, true, true], template.Background());
    }
}
