using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Streaming;
using static StreamAnomaly.Core.Tests.Streaming.StreamingTestData;

namespace StreamAnomaly.Core.Tests.Streaming;

public sealed class LineAggregationTests
{
    private static readonly AggregationOptions NoSmoothing = AggregationOptions.Default with { SmoothingAlpha = 1 };

    private static List<LineEvent> Feed(LineAggregation line, IEnumerable<PartialResult> partials) =>
        partials.SelectMany(p => line.Apply(p, p.CaptureTime)).ToList();

    private static List<AlarmEvent> Alarms(IEnumerable<LineEvent> events) => events.OfType<AlarmChanged>().Select(static a => a.Alarm).ToList();

    private static IEnumerable<PartialResult> Scores(string camera, long first, params double[] scores) =>
        scores.Select((s, i) => Partial(camera, first + i, s));

    [Fact]
    public void A_frame_is_decided_once_every_expected_detector_answered()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Assert.Empty(line.Apply(Partial("cam", 1, 0.2, detector: "a", detectors: 2), T0));
        Assert.Equal(1, line.Pending);
        var events = line.Apply(Partial("cam", 1, 0.3, detector: "b", detectors: 2), T0);
        var decided = Assert.Single(events.OfType<FrameDecided>());
        Assert.Equal(0.3, decided.Fused.Score, 9);
        Assert.True(decided.Fused.Complete);
        Assert.Equal(new FrameAccepted(new FrameKey("cam", 1), false), events.OfType<FrameAccepted>().Single());
        Assert.Equal(0, line.Pending);
    }

    [Fact]
    public void A_redelivered_frame_is_accepted_as_a_duplicate_and_not_decided_again()
    {
        var line = new LineAggregation("A", NoSmoothing);
        line.Apply(Partial("cam", 1, 0.2), T0);
        var again = line.Apply(Partial("cam", 1, 0.2), T0);
        Assert.Equal([new FrameAccepted(new FrameKey("cam", 1), Duplicate: true)], again);
    }

    [Fact]
    public void A_join_that_times_out_is_fused_from_what_arrived()
    {
        var line = new LineAggregation("A", NoSmoothing);
        line.Apply(Partial("cam", 1, 0.6, detector: "a", detectors: 2), T0);
        Assert.Empty(line.Tick(T0 + NoSmoothing.JoinTimeout - TimeSpan.FromMilliseconds(1)));
        var decided = Assert.Single(line.Tick(T0 + NoSmoothing.JoinTimeout).OfType<FrameDecided>());
        Assert.False(decided.Fused.Complete);
        Assert.Equal(0.6, decided.Fused.Score, 9);
    }

    [Fact]
    public void Two_hot_frames_in_five_raise_nothing()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Assert.Empty(Alarms(Feed(line, Scores("cam", 0, 0.1, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1))));
    }

    [Fact]
    public void Three_hot_frames_in_five_raise_one_alarm_named_after_the_frame_that_raised_it()
    {
        var line = new LineAggregation("A", NoSmoothing);
        var alarm = Assert.Single(Alarms(Feed(line, Scores("cam", 0, 0.1, 0.9, 0.1, 0.9, 0.9))));
        Assert.Equal(AlarmPhase.Raised, alarm.Phase);
        Assert.Equal("A:cam:4", alarm.AlarmId);
        Assert.Equal(0, alarm.Revision);
        Assert.Equal(["cam"], alarm.Cameras);
    }

    [Fact]
    public void Hot_frames_spread_over_two_cameras_do_not_add_up()
    {
        var line = new LineAggregation("A", NoSmoothing);
        var partials = Scores("c1", 0, 0.9, 0.9, 0.1, 0.1).Concat(Scores("c2", 0, 0.9, 0.9, 0.1, 0.1));
        Assert.Empty(Alarms(Feed(line, partials)));
    }

    [Fact]
    public void The_hot_episode_must_last_the_minimum_duration()
    {
        // 5 fps: three hot frames span 0.4 s.
        var line = new LineAggregation("A", NoSmoothing with { MinDuration = TimeSpan.FromSeconds(0.5) });
        Assert.Empty(Alarms(Feed(line, Scores("cam", 0, 0.9, 0.9, 0.9))));
        Assert.Single(Alarms(Feed(line, Scores("cam", 3, 0.9))));
    }

    [Fact]
    public void Smoothing_keeps_a_single_spike_below_the_threshold()
    {
        var line = new LineAggregation("A", AggregationOptions.Default with { SmoothingAlpha = 0.3, RaiseHits = 1, RaiseWindow = 1 });
        var decided = Feed(line, Scores("cam", 0, 0.1, 0.1, 0.9, 0.1)).OfType<FrameDecided>().ToList();
        Assert.Equal(0.1 + (0.3 * 0.8), decided[2].Smoothed, 9);
        Assert.Empty(Alarms(decided));
    }

    [Fact]
    public void An_alarm_is_not_cleared_while_scores_stay_between_the_clear_and_raise_thresholds()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Feed(line, Scores("cam", 0, 0.9, 0.9, 0.9));
        var later = Feed(line, Scores("cam", 3, Enumerable.Repeat(0.45, 40).ToArray()));
        Assert.Empty(Alarms(later));
        Assert.NotNull(line.ActiveAlarm);
    }

    [Fact]
    public void An_alarm_clears_after_the_quiet_time_below_the_clear_threshold()
    {
        // ClearAfter 2 s at 5 fps: the cool frame 2 s after the last warm one (frame 2) clears: frame 12.
        var line = new LineAggregation("A", NoSmoothing);
        Feed(line, Scores("cam", 0, 0.9, 0.9, 0.9));
        var events = Feed(line, Scores("cam", 3, Enumerable.Repeat(0.1, 12).ToArray()));
        var cleared = Assert.Single(Alarms(events));
        Assert.Equal(AlarmPhase.Cleared, cleared.Phase);
        Assert.Equal(T0.AddMilliseconds(2400), cleared.At);
        Assert.Equal("A:cam:2", cleared.AlarmId);
        Assert.Null(line.ActiveAlarm);
    }

    [Fact]
    public void A_second_camera_turning_hot_updates_the_alarm()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Feed(line, Scores("c1", 0, 0.9, 0.9, 0.9));
        var update = Assert.Single(Alarms(Feed(line, Scores("c2", 0, 0.6))));
        Assert.Equal(AlarmPhase.Updated, update.Phase);
        Assert.Equal(1, update.Revision);
        Assert.Equal(["c1", "c2"], update.Cameras);
        Assert.Equal("A:c1:2/1", update.IdempotencyKey);
    }

    [Fact]
    public void A_forged_sequence_far_ahead_is_acknowledged_and_refused_but_not_decided()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Feed(line, Scores("cam", 0, 0.2, 0.2));
        var forged = Partial("cam", 2, 0.9) with { Frame = new FrameKey("cam", 9_100_000_000_000_000_000) };
        var events = line.Apply(forged, forged.CaptureTime);
        Assert.Equal(new FrameAccepted(forged.Frame, Duplicate: false), events[0]);
        Assert.Equal(forged.Frame, Assert.IsType<FrameRefused>(events[1]).Frame);
        Assert.Equal(2, events.Count);
    }

    [Fact]
    public void Frames_after_a_forged_sequence_are_still_decided_long_past_the_deduplication_window()
    {
        var line = new LineAggregation("A", NoSmoothing with { DeduplicationWindow = 16 });
        Feed(line, Scores("cam", 0, 0.2, 0.2));
        var forged = Partial("cam", 2, 0.9) with { Frame = new FrameKey("cam", 9_100_000_000_000_000_000) };
        line.Apply(forged, forged.CaptureTime);
        var later = Feed(line, Scores("cam", 2, Enumerable.Repeat(0.2, 100).ToArray()));
        Assert.Equal(100, later.OfType<FrameDecided>().Count());
    }

    [Fact]
    public void A_gap_in_a_cameras_sequence_is_reported_as_frames_lost()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Feed(line, Scores("cam", 0, 0.2, 0.2, 0.2));
        var events = Feed(line, Scores("cam", 10, 0.2));
        Assert.Equal([new FramesLost("cam", 7)], events.OfType<FramesLost>());
    }

    [Fact]
    public void A_redelivered_frame_reports_no_loss()
    {
        var line = new LineAggregation("A", NoSmoothing);
        Feed(line, Scores("cam", 0, 0.2, 0.2, 0.2));
        Assert.Empty(Feed(line, Scores("cam", 1, 0.2, 0.2)).OfType<FramesLost>());
    }

    [Property(MaxTest = 200)]
    public Property Normal_scores_never_raise_an_alarm() =>
        Prop.ForAll(Gen.Choose(0, 49).Select(static v => v / 100.0).ArrayOf().ToArbitrary(), scores =>
            Alarms(Feed(new LineAggregation("A", AggregationOptions.Default), Scores("cam", 0, scores))).Count == 0);

    [Property(MaxTest = 200)]
    public Property Every_alarm_is_raised_once_then_updated_with_consecutive_revisions_and_cleared_at_most_once() =>
        Prop.ForAll(Gen.Elements(0.05, 0.3, 0.45, 0.7, 0.95).ArrayOf().ToArbitrary(), scores =>
        {
            var alarms = Alarms(Feed(new LineAggregation("A", NoSmoothing), Scores("cam", 0, scores)));
            foreach (var group in alarms.GroupBy(static a => a.AlarmId))
            {
                var list = group.ToList();
                if (list[0].Phase != AlarmPhase.Raised || list.Select((a, i) => a.Revision != i).Any(static bad => bad)
                    || list.Skip(1).SkipLast(1).Any(static a => a.Phase != AlarmPhase.Updated) || list.Count(static a => a.Phase == AlarmPhase.Cleared) > 1)
                {
                    return false;
                }
            }

            // never two alarms active at once: each new Raised comes after the previous alarm's Cleared
            var active = 0;
            foreach (var a in alarms)
            {
                active += a.Phase switch { AlarmPhase.Raised => 1, AlarmPhase.Cleared => -1, _ => 0 };
                if (active is < 0 or > 1)
                {
                    return false;
                }
            }

            return true;
        });

    [Property(MaxTest = 100)]
    public Property Redelivering_every_frame_changes_no_alarm() =>
        Prop.ForAll(Gen.Elements(0.05, 0.45, 0.95).ArrayOf().ToArbitrary(), scores =>
        {
            var once = Alarms(Feed(new LineAggregation("A", NoSmoothing), Scores("cam", 0, scores)));
            var twice = Alarms(Feed(new LineAggregation("A", NoSmoothing), Scores("cam", 0, scores).SelectMany(static p => new[] { p, p })));
            return once.Select(static a => a.IdempotencyKey).SequenceEqual(twice.Select(static a => a.IdempotencyKey));
        });
}
