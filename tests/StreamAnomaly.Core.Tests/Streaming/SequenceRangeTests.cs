using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Core.Tests.Streaming;

/// <summary>A camera as the plant runs one: runs starting at a clock reading in µs, one number per frame, at most Fps frames per second.</summary>
public sealed record CameraRun(double Fps, (int Frames, int PauseSeconds)[] Runs, int[] JitterMs)
{
    public static readonly DateTimeOffset Start = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    /// <summary>(sequence, capture time) of every frame published, run after run; each run restarts from the clock.</summary>
    public IEnumerable<(long Sequence, DateTimeOffset CaptureTime)> Frames()
    {
        var clock = Start;
        var jitter = 0;
        foreach (var (frames, pause) in Runs)
        {
            clock += TimeSpan.FromSeconds(pause);
            var first = SequenceRange.Micros(clock); // CameraActor.FirstSequence
            var period = TimeSpan.FromSeconds(1 / Fps);
            for (var k = 0; k < frames; k++)
            {
                clock += period + TimeSpan.FromMilliseconds(JitterMs[jitter++ % JitterMs.Length]);
                var capture = DateTimeOffset.FromUnixTimeMilliseconds(clock.ToUnixTimeMilliseconds()); // headers keep milliseconds
                yield return (first + k, capture);
            }
        }
    }

    public override string ToString() => $"{Fps} fps, runs {string.Join(",", Runs.Select(r => $"{r.Frames} frames after {r.PauseSeconds} s"))}, jitter {string.Join(",", JitterMs)}";
}

public static class CameraRunArbitrary
{
    public static Arbitrary<CameraRun> Run() =>
        (from fps in Gen.Elements(1.0, 5.0, 30.0, 120.0)
         from runs in Gen.ArrayOf(from frames in Gen.Choose(1, 60) from pause in Gen.Choose(0, 3600) select (frames, pause), 3)
         from jitter in Gen.ArrayOf(Gen.Choose(0, 5), 5)
         select new CameraRun(fps, runs, jitter))
        .ToArbitrary();
}

public sealed class SequenceRangeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_sequence_of_9_1e18_is_refused_by_the_clock_rule() =>
        Assert.Contains("is above", SequenceRange.CheckClock(9_100_000_000_000_000_000, Now, Now), StringComparison.Ordinal);

    [Fact]
    public void The_first_frame_of_a_camera_started_now_passes_the_clock_rule() =>
        Assert.Null(SequenceRange.CheckClock(SequenceRange.Micros(Now), Now, Now));

    [Fact]
    public void A_capture_time_more_than_a_minute_ahead_of_the_clock_is_refused() =>
        Assert.Contains("ahead of this node's clock", SequenceRange.CheckClock(0, Now.AddMinutes(2), Now), StringComparison.Ordinal);

    [Fact]
    public void A_capture_time_before_1970_admits_no_sequence() =>
        Assert.NotNull(SequenceRange.CheckClock(0, DateTimeOffset.UnixEpoch.AddSeconds(-1), Now));

    [Fact]
    public void A_run_may_advance_twice_its_frame_rate_plus_the_slack() =>
        Assert.Equal(20 + SequenceRange.SlackFrames, SequenceRange.MaxAdvance(5, TimeSpan.FromSeconds(2)));

    [Fact]
    public void A_number_far_ahead_of_the_last_frame_and_below_any_restart_is_implausible() =>
        Assert.False(SequenceRange.IsPlausibleAdvance(SequenceRange.Micros(Now) - 1_000_000_000, Now.AddSeconds(1), lastSequence: SequenceRange.Micros(Now) - 2_000_000_000, lastCaptureTime: Now, fps: 5));

    [Fact]
    public void A_restart_numbered_from_the_clock_after_the_last_frame_is_plausible() =>
        Assert.True(SequenceRange.IsPlausibleAdvance(SequenceRange.Micros(Now.AddSeconds(30)), Now.AddSeconds(31), lastSequence: 1_000, lastCaptureTime: Now, fps: 5));

    [Property(Arbitrary = [typeof(CameraRunArbitrary)])]
    public bool Every_frame_a_camera_publishes_passes_both_rules(CameraRun camera)
    {
        (long Sequence, DateTimeOffset CaptureTime)? last = null;
        foreach (var (sequence, capture) in camera.Frames())
        {
            if (SequenceRange.CheckClock(sequence, capture, capture) is not null
                || (last is { } l && !SequenceRange.IsPlausibleAdvance(sequence, capture, l.Sequence, l.CaptureTime, camera.Fps)))
            {
                return false;
            }

            last = (sequence, capture);
        }

        return true;
    }

    [Property(Arbitrary = [typeof(CameraRunArbitrary)])]
    public bool Within_a_run_only_the_restarts_leave_the_same_run(CameraRun camera)
    {
        var frames = camera.Frames().ToArray();
        var restarts = 0;
        for (var i = 1; i < frames.Length; i++)
        {
            if (!SequenceRange.IsSameRun(frames[i].Sequence, frames[i].CaptureTime, frames[i - 1].Sequence, frames[i - 1].CaptureTime, camera.Fps))
            {
                restarts++;
            }
        }

        return restarts == camera.Runs.Length - 1;
    }
}
