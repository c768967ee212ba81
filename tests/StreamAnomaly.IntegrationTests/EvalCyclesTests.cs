using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.IntegrationTests;

public sealed class EvalCyclesTests
{
    private static readonly ScoreCalibration Calibration = new(1, 0, 2, 99);

    private static RawFrameScore Score(double raw, double? phase) => new(raw, new AnomalyMap(1, 1, [0f]), Phase: phase);

    [Fact]
    public void A_clip_whose_scores_carry_phases_lists_its_complete_cycles_in_frames_with_their_peaks()
    {
        // A 10-frame cycle, phases 0.05, 0.15, ..., wrapping between frames 9 and 10, 19 and 20, 29 and 30.
        var scores = Enumerable.Range(0, 35).Select(i => Score(i == 24 ? 1.8 : 0.2, ((i % 10) + 0.5) / 10)).ToArray();

        var cycles = EvalWorkflow.Cycles(scores, Calibration);

        Assert.Equal(2, cycles.Count);
        Assert.All(cycles, c => Assert.Equal(10, c.Duration.TotalSeconds, 6));
        Assert.Equal(Calibration.Normalize(1.8), cycles[1].PeakScore, 12);
        Assert.Equal(0.45, cycles[1].PeakPhase, 12);
    }

    [Fact]
    public void Scores_without_phases_have_no_cycles()
    {
        Assert.Empty(EvalWorkflow.Cycles(Enumerable.Range(0, 30).Select(i => Score(0.5, null)).ToArray(), Calibration));
    }
}
