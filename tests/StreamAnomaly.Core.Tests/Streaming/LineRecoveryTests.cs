using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Streaming;
using static StreamAnomaly.Core.Tests.Streaming.StreamingTestData;

namespace StreamAnomaly.Core.Tests.Streaming;

/// <summary>
/// A line aggregator that dies is rebuilt on another node from its journal (the decisions) or
/// from a snapshot: the rebuilt state must then behave exactly as the one that died.
/// </summary>
public sealed class LineRecoveryTests
{
    private static readonly AggregationOptions Options = AggregationOptions.Default with { SmoothingAlpha = 0.6 };

    private static IEnumerable<PartialResult> Scores(string camera, double[] scores) =>
        scores.Select((s, i) => Partial(camera, i, s));

    /// <summary>What a line does with frames, compared without the fused frames' grids: decisions (frame, smoothed score), alarms, duplicates.</summary>
    private static List<string> Outcome(IEnumerable<LineEvent> events) => events.Select(static e => e switch
    {
        FrameDecided d => $"decided {d.Fused.Frame} {d.Smoothed:R}",
        AlarmChanged a => $"alarm {a.Alarm.IdempotencyKey} {a.Alarm.Phase} {a.Alarm.PeakScore:R} {string.Join(",", a.Alarm.Cameras)}",
        _ => e.ToString(),
    }).ToList();

    private static (LineAggregation Line, List<LineDecision> Journal) Run(IEnumerable<PartialResult> partials)
    {
        var line = new LineAggregation("A", Options);
        var journal = partials.SelectMany(p => line.Apply(p, p.CaptureTime)).OfType<FrameDecided>().Select(static d => LineDecision.Of(d.Fused)).ToList();
        return (line, journal);
    }

    private static LineAggregation Replayed(IEnumerable<LineDecision> journal)
    {
        var line = new LineAggregation("A", Options);
        foreach (var decision in journal)
        {
            line.Replay(decision);
        }

        return line;
    }

    private static Arbitrary<(double[] Before, double[] After)> Split() =>
        Gen.Elements(0.05, 0.3, 0.45, 0.7, 0.95).ArrayOf().Two().Select(static t => (t.Item1, t.Item2)).ToArbitrary();

    [Property(MaxTest = 150)]
    public Property A_line_replayed_from_its_journal_decides_the_next_frames_as_the_original_does() =>
        Prop.ForAll(Split(), split =>
        {
            var before = Scores("c1", split.Before).Concat(Scores("c2", split.Before.Reverse().ToArray()));
            var (original, journal) = Run(before);
            var recovered = Replayed(journal);
            var next = Scores("c1", [.. split.Before, .. split.After]).Skip(split.Before.Length).Concat(Scores("c2", [.. split.Before, .. split.After]).Skip(split.Before.Length)).ToList();
            return Outcome(next.SelectMany(p => original.Apply(p, p.CaptureTime))).SequenceEqual(Outcome(next.SelectMany(p => recovered.Apply(p, p.CaptureTime))));
        });

    [Property(MaxTest = 150)]
    public Property A_line_restored_from_a_snapshot_decides_the_next_frames_as_the_original_does() =>
        Prop.ForAll(Split(), split =>
        {
            var (original, _) = Run(Scores("c1", split.Before));
            var restored = new LineAggregation("A", Options);
            restored.Restore(original.Snapshot());
            var next = Scores("c1", [.. split.Before, .. split.After]).Skip(split.Before.Length).ToList();
            return Outcome(next.SelectMany(p => original.Apply(p, p.CaptureTime))).SequenceEqual(Outcome(next.SelectMany(p => restored.Apply(p, p.CaptureTime))));
        });

    [Fact]
    public void Replaying_the_journal_returns_the_alarm_events_the_original_published()
    {
        var partials = Scores("cam", [0.1, 0.9, 0.9, 0.9, 0.95, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]).ToList();
        var line = new LineAggregation("A", Options with { SmoothingAlpha = 1, ClearAfter = TimeSpan.FromSeconds(1) });
        var events = partials.SelectMany(p => line.Apply(p, p.CaptureTime)).ToList();
        var published = events.OfType<AlarmChanged>().Select(static a => a.Alarm.IdempotencyKey).ToList();
        Assert.Contains("A:cam:3/0", published);

        var recovered = new LineAggregation("A", Options with { SmoothingAlpha = 1, ClearAfter = TimeSpan.FromSeconds(1) });
        var replayed = events.OfType<FrameDecided>().SelectMany(d => recovered.Replay(LineDecision.Of(d.Fused))).Select(static a => a.IdempotencyKey).ToList();
        Assert.Equal(published, replayed);
    }

    [Fact]
    public void A_restored_line_still_has_its_active_alarm()
    {
        var (line, _) = Run(Scores("cam", [0.95, 0.95, 0.95, 0.95]));
        var restored = new LineAggregation("A", Options);
        restored.Restore(line.Snapshot());
        Assert.NotNull(line.ActiveAlarm);
        Assert.Equal(line.ActiveAlarm, restored.ActiveAlarm);
    }

    [Fact]
    public void A_restored_line_takes_an_already_decided_frame_as_a_duplicate()
    {
        var (line, _) = Run(Scores("cam", [0.1, 0.2, 0.3]));
        var restored = new LineAggregation("A", Options);
        restored.Restore(line.Snapshot());
        Assert.Equal([new FrameAccepted(new FrameKey("cam", 1), Duplicate: true)], restored.Apply(Partial("cam", 1, 0.2), T0));
    }

    [Fact]
    public void A_replayed_line_takes_an_already_decided_frame_as_a_duplicate()
    {
        var (_, journal) = Run(Scores("cam", [0.1, 0.2, 0.3]));
        Assert.Equal([new FrameAccepted(new FrameKey("cam", 2), Duplicate: true)], Replayed(journal).Apply(Partial("cam", 2, 0.3), T0));
    }

    [Fact]
    public void A_snapshot_keeps_the_deduplication_window_beyond_its_floor()
    {
        var options = Options with { DeduplicationWindow = 16 };
        var line = new LineAggregation("A", options);
        foreach (var p in Scores("cam", [.. Enumerable.Repeat(0.1, 40)]))
        {
            line.Apply(p, p.CaptureTime);
        }

        var camera = Assert.Single(line.Snapshot().Cameras);
        Assert.Equal(16, camera.Window.Count);
        Assert.Equal(23, camera.Floor);
        Assert.Equal(39, camera.Highest);
    }

    [Fact]
    public void A_snapshot_of_another_line_is_refused()
    {
        var (line, _) = Run(Scores("cam", [0.95, 0.95, 0.95, 0.95]));
        var other = new LineAggregation("B", Options);
        Assert.Contains("line 'A'", Assert.Throws<ArgumentException>(() => other.Restore(line.Snapshot())).Message, StringComparison.Ordinal);
    }
}
