using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Core.Tests.Streaming;

public sealed class CameraSequencesTests
{
    private const double Fps = 5;
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);
    /// <summary>The run's first number: its camera started an hour before <see cref="T0"/>.</summary>
    private static readonly long Base = SequenceRange.Micros(T0.AddHours(-1));

    private static DateTimeOffset At(long frame) => T0.AddMilliseconds(frame * 200);

    private static FrameKey Key(long frame) => new("cam", Base + frame);

    /// <summary>Checks then records frames 0, 1, ... of one run (numbered from <see cref="Base"/>); returns the lost count of each.</summary>
    private static long[] Decide(CameraSequences sequences, params long[] frames) =>
        frames.Select(f =>
        {
            Assert.Null(sequences.Check(Key(f), At(f), At(f)));
            return sequences.Decided(Key(f), At(f));
        }).ToArray();

    [Fact]
    public void Skipped_numbers_of_a_run_are_counted_as_lost_when_the_next_frame_is_decided()
    {
        var sequences = new CameraSequences(_ => Fps);
        Assert.Equal([0, 0, 0, 5], Decide(sequences, 0, 1, 2, 8));
    }

    [Fact]
    public void A_frame_decided_after_a_later_one_counts_nothing()
    {
        var sequences = new CameraSequences(_ => Fps);
        Assert.Equal([0, 1, 0], Decide(sequences, 0, 2, 1));
    }

    [Fact]
    public void A_restart_numbered_from_the_clock_counts_nothing()
    {
        var sequences = new CameraSequences(_ => Fps);
        Decide(sequences, 0, 1);
        var restart = T0.AddMinutes(5);
        var first = new FrameKey("cam", SequenceRange.Micros(restart));
        Assert.Null(sequences.Check(first, restart.AddSeconds(1), restart.AddSeconds(1)));
        Assert.Equal(0, sequences.Decided(first, restart.AddSeconds(1)));
    }

    [Fact]
    public void A_number_far_ahead_of_the_run_and_below_a_restart_is_refused()
    {
        var sequences = new CameraSequences(_ => Fps);
        Decide(sequences, 0, 1);
        var reason = sequences.Check(Key(1 + 10_000), At(2), At(2));
        Assert.Contains("frames after camera cam's last accepted frame", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_number_leaves_the_loss_count_of_the_next_frames_unchanged()
    {
        var sequences = new CameraSequences(_ => Fps);
        Decide(sequences, 0, 1);
        Assert.NotNull(sequences.Check(new FrameKey("cam", 9_100_000_000_000_000_000), At(2), At(2)));
        Assert.Equal([0, 1], Decide(sequences, 2, 4));
    }

    [Fact]
    public void The_frame_rate_of_the_frames_camera_sets_how_far_it_may_advance()
    {
        var sequences = new CameraSequences(camera => camera == "fast" ? 120 : 1);
        foreach (var camera in new[] { "fast", "slow" })
        {
            sequences.Decided(new FrameKey(camera, 0), T0);
        }

        // one second later: 200 numbers is within 2 x 120 + 16, not within 2 x 1 + 16
        Assert.Null(sequences.Check(new FrameKey("fast", 200), T0.AddSeconds(1), T0.AddSeconds(1)));
        Assert.NotNull(sequences.Check(new FrameKey("slow", 200), T0.AddSeconds(1), T0.AddSeconds(1)));
    }

    [Property(MaxTest = 300)]
    public Property The_lost_count_equals_the_numbers_never_decided() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Elements(true, true, true, false), 200).ToArbitrary(), kept =>
        {
            // A run of 200 frames, some lost on the way; the first and the last always arrive.
            kept[0] = kept[^1] = true;
            var sequences = new CameraSequences(_ => Fps);
            var decided = Enumerable.Range(0, kept.Length).Where(i => kept[i]).Select(i => (long)i).ToArray();
            return Decide(sequences, decided).Sum() == kept.Length - decided.Length;
        });
}
