using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Core.Tests.Temporal;

public sealed class CycleClockTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Feeds frames every 0.2 s at the given phases (scores 0) and returns the cycles they complete.</summary>
    private static List<CycleRecord> Feed(CycleClock clock, IEnumerable<double> phases, double[]? scores = null) =>
        phases.Select((phase, i) => clock.Observe(Start.AddSeconds(i * 0.2), phase, scores?[i] ?? 0)).OfType<CycleRecord>().ToList();

    /// <summary>Phase of frame i when the cycle lasts <paramref name="frames"/> frames and starts between frames.</summary>
    private static IEnumerable<double> Cycles(double frames, int count, double offset = 0.25) =>
        Enumerable.Range(0, count).Select(i => (((i + offset) / frames) % 1 + 1) % 1);

    [Fact]
    public void Each_wrap_after_the_first_completes_a_cycle_of_the_time_between_wraps()
    {
        var cycles = Feed(new CycleClock(), Cycles(30, 100));

        Assert.Equal(2, cycles.Count);
        Assert.All(cycles, c => Assert.Equal(6.0, c.Duration.TotalSeconds, 6));
        Assert.Equal(Start.AddSeconds(29.75 * 0.2), cycles[0].Start);
    }

    [Fact]
    public void A_phase_that_jitters_across_zero_does_not_end_a_cycle_twice()
    {
        double[] phases = [0.5, 0.8, 0.97, 0.02, 0.98, 0.03, 0.2, 0.5, 0.9, 0.05];

        var cycles = Feed(new CycleClock(), phases);

        var cycle = Assert.Single(cycles);
        Assert.Equal((8 + (2 / 3.0) - 2.6) * 0.2, cycle.Duration.TotalSeconds, 6);
    }

    [Fact]
    public void A_stalled_machine_completes_no_cycle_until_it_moves_on()
    {
        var phases = Cycles(30, 40).Concat(Enumerable.Repeat(0.52, 50)).ToArray();

        Assert.Empty(Feed(new CycleClock(), phases));
    }

    [Fact]
    public void The_record_names_the_phase_where_the_cycle_deviated_most()
    {
        var phases = Cycles(20, 45).ToArray();
        var scores = phases.Select((_, i) => i == 30 ? 9.0 : 0.1).ToArray();

        var cycle = Assert.Single(Feed(new CycleClock(), phases, scores));

        Assert.Equal(9.0, cycle.PeakScore);
        Assert.Equal(phases[30], cycle.PeakPhase);
    }

    [Fact]
    public void A_redelivered_older_frame_is_ignored()
    {
        var clock = new CycleClock();
        var phases = Cycles(20, 45).ToArray();
        var cycles = new List<CycleRecord>();
        for (var i = 0; i < phases.Length; i++)
        {
            cycles.AddRange(new[] { clock.Observe(Start.AddSeconds(i * 0.2), phases[i], 0) }.OfType<CycleRecord>());
            if (i == 25)
            {
                Assert.Null(clock.Observe(Start.AddSeconds(2), 0.05, 50));
            }
        }

        var cycle = Assert.Single(cycles);
        Assert.Equal(4.0, cycle.Duration.TotalSeconds, 6);
        Assert.Equal(0, cycle.PeakScore);
    }

    [Fact]
    public void Cycles_of_a_clips_frames_are_timed_in_frames_and_frames_without_a_phase_keep_their_place()
    {
        // A 10-frame cycle (phases 0.05, 0.15, ...); frames 12 and 13 carry no phase.
        var frames = Enumerable.Range(0, 35).Select(i => (i is 12 or 13 ? (double?)null : ((i % 10) + 0.5) / 10, 0.0));

        var cycles = CycleClock.OfFrames(frames);

        Assert.Equal(2, cycles.Count);
        Assert.All(cycles, c => Assert.Equal(10, c.Duration.TotalSeconds, 6));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(9.5), cycles[0].Start);
    }

    [Fact]
    public void A_phase_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CycleClock().Observe(Start, 1.0, 0));
    }
}
