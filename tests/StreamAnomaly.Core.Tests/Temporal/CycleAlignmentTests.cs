using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Core.Tests.Temporal;

public sealed class CycleAlignmentTests
{
    private const int Bins = 20;
    private static readonly double[] Normal = CycleAlignment.Speeds(0.2, 9);

    /// <summary>
    /// Bin distances of frames at the given cycle positions (bins): each frame is nearest the bin it
    /// shows, farther from the others with their cyclic gap, plus <paramref name="offset"/> on every bin.
    /// </summary>
    private static double[][] Rows(IEnumerable<double> positions, double offset = 0) =>
        positions.Select(p => Enumerable.Range(0, Bins).Select(j =>
        {
            var gap = Math.Abs(j - p) % Bins;
            return offset + Math.Min(gap, Bins - gap);
        }).ToArray()).ToArray();

    private static IEnumerable<double> Pace(double speed, int frames, double start = 3) =>
        Enumerable.Range(0, frames).Select(t => (start + (t * speed)) % Bins);

    [Fact]
    public void Speeds_span_the_band_in_log_steps_and_include_the_learned_pace()
    {
        var speeds = CycleAlignment.Speeds(0.25, 5);

        Assert.Equal(1 / 1.25, speeds[0], 12);
        Assert.Equal(1.0, speeds[2], 12);
        Assert.Equal(1.25, speeds[^1], 12);
        Assert.Equal(speeds[1] / speeds[0], speeds[4] / speeds[3], 12);
    }

    [Fact]
    public void A_window_at_the_learned_pace_has_no_excess_and_reports_the_last_frames_phase()
    {
        var rows = Rows(Pace(1, 12));

        var match = CycleAlignment.Match(rows, 11, 8, Normal);

        Assert.Equal(0, match.Excess, 9);
        Assert.Equal(((3 + 11) % Bins) / (double)Bins, match.Phase, 9);
        Assert.Equal(1.0, match.Speed, 9);
    }

    [Fact]
    public void A_stalled_machine_scores_higher_the_longer_it_stands_still()
    {
        var positions = Pace(1, 10).Concat(Enumerable.Repeat(12.0, 8)).ToArray();
        var rows = Rows(positions);

        var excess = Enumerable.Range(9, 9).Select(t => CycleAlignment.Match(rows, t, 8, Normal).Excess).ToArray();

        Assert.Equal(0, excess[0], 9);
        Assert.All(excess.Zip(excess.Skip(1)), pair => Assert.True(pair.Second >= pair.First, $"{pair.First} then {pair.Second}"));
        Assert.True(excess[^1] > 1.5, $"{excess[^1]}");
    }

    [Theory]
    [InlineData(0.6)]
    [InlineData(1.6)]
    public void A_cycle_outside_the_speed_band_has_excess_and_one_inside_has_none(double speed)
    {
        var outside = CycleAlignment.Match(Rows(Pace(speed, 12)), 11, 10, Normal);
        var inside = CycleAlignment.Match(Rows(Pace(speed > 1 ? 1.15 : 0.87, 12)), 11, 10, Normal);

        // The nearest allowed pace (1 / 1.2 or 1.2) drifts 0.23 or 0.4 bins a frame from the true one: about a bin on average over 10 frames, less the best start.
        Assert.True(outside.Excess > 0.4, $"{outside.Excess}");
        Assert.True(inside.Excess < 0.2, $"{inside.Excess}");
    }

    [Fact]
    public void Looking_less_like_every_phase_alike_does_not_raise_the_excess()
    {
        var clean = CycleAlignment.Match(Rows(Pace(1, 10)), 9, 8, Normal);
        var person = CycleAlignment.Match(Rows(Pace(1, 10), offset: 5), 9, 8, Normal);

        Assert.Equal(clean.Excess, person.Excess, 9);
        Assert.Equal(clean.FreeCost + 5, person.FreeCost, 9);
    }

    [Fact]
    public void The_first_frames_are_matched_on_the_frames_there_are()
    {
        var match = CycleAlignment.Match(Rows(Pace(1, 3)), 0, 8, Normal);

        Assert.Equal(0, match.Excess, 9);
        Assert.Equal(3 / (double)Bins, match.Phase, 9);
    }

    [Fact]
    public void Rows_of_different_lengths_are_refused_naming_the_frame()
    {
        double[][] rows = [new double[Bins], new double[Bins - 1], new double[Bins]];

        var error = Assert.Throws<ArgumentException>(() => CycleAlignment.Match(rows, 2, 3, Normal));

        Assert.Contains("frame 1 has 19 bin distances", error.Message);
    }
}
