using StreamAnomaly.Synthetic.Live;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Tests.Live;

public class LiveRobotCellTests
{
    private const int Size = 40;
    private const double Step = 0.25;

    [Fact]
    public void Same_seed_and_times_give_the_same_frames_and_they_equal_the_normal_scene()
    {
        var a = new LiveRobotCell(7, SceneOptions.WithHands);
        var b = new LiveRobotCell(7, SceneOptions.WithHands);
        var other = new LiveRobotCell(8, SceneOptions.WithHands);
        var scene = new RobotCellScene(7, SceneOptions.WithHands);

        for (var t = 0.0; t < 3; t += 0.5)
        {
            var fa = a.Render(t, Size, Size);
            Assert.Equal(fa.Frame.Bgr, b.Render(t, Size, Size).Frame.Bgr);
            Assert.Equal(scene.Render(t, Size, Size).Frame.Bgr, fa.Frame.Bgr);
            Assert.NotEqual(fa.Frame.Bgr, other.Render(t, Size, Size).Frame.Bgr);
            Assert.Equal((t, null), (fa.SceneTime, fa.Anomaly));
        }
    }

    [Theory]
    [InlineData(AnomalyKind.ForeignObjectBesideBelt)]
    [InlineData(AnomalyKind.DroppedPart)]
    [InlineData(AnomalyKind.StalledArm)]
    [InlineData(AnomalyKind.CycleTooSlow)]
    [InlineData(AnomalyKind.CycleTooFast)]
    public void Injection_makes_only_the_next_cycle_differ_from_the_normal_scene(AnomalyKind kind)
    {
        const int Seed = 11;
        var live = new LiveRobotCell(Seed, SceneOptions.Background);
        var normal = new RobotCellScene(Seed, SceneOptions.Background);
        var schedule = normal.Schedule;

        // Normal until the injection, part-way through cycle 1.
        var t = 0.0;
        var injectAt = schedule.Start(1) + 1.0;
        for (; t < injectAt; t += Step)
        {
            Assert.Equal(normal.Render(t, Size, Size).Frame.Bgr, live.Render(t, Size, Size).Frame.Bgr);
        }

        live.Inject(kind);

        var differing = 0;
        var matchingAfter = 0;
        var anomalousCycleEnd = double.NaN;
        var firstNormalSceneTime = double.NaN;
        for (; t < schedule.End(4) + 2; t += Step)
        {
            var frame = live.Render(t, Size, Size);
            var expected = normal.Render(frame.SceneTime, Size, Size).Frame.Bgr;
            var same = expected.AsSpan().SequenceEqual(frame.Frame.Bgr);
            if (frame.Cycle < 2)
            {
                // Still cycle 1: frames of the anomalous scene before its cycle equal the normal ones, except
                // a foreign object riding in on the belt.
                Assert.Equal(AnomalySpec.NameOf(kind), frame.Anomaly);
            }
            else if (frame.Anomaly is not null)
            {
                Assert.Equal(2, frame.Cycle);
                differing += same ? 0 : 1;
            }
            else
            {
                anomalousCycleEnd = double.IsNaN(anomalousCycleEnd) ? t : anomalousCycleEnd;
                firstNormalSceneTime = double.IsNaN(firstNormalSceneTime) ? frame.SceneTime : firstNormalSceneTime;
                Assert.True(frame.Cycle >= 3, $"normal again in cycle {frame.Cycle}");
                Assert.True(same, $"t={t}: after the anomalous cycle the frame should equal the normal scene at {frame.SceneTime}");
                matchingAfter++;
            }
        }

        Assert.True(differing > 0, "the anomalous cycle never differed from the normal scene");
        Assert.True(matchingAfter > 8, "too few frames after the anomalous cycle");

        // The anomalous cycle lasted its scaled duration; the scene clock continues from the normal cycle 3.
        var spec = new AnomalySpec(kind, 2);
        var expectedEnd = schedule.Start(2) + (schedule.Duration(2) * spec.DurationScale);
        Assert.InRange(anomalousCycleEnd, expectedEnd, expectedEnd + Step);
        Assert.InRange(firstNormalSceneTime, schedule.Start(3), schedule.Start(3) + Step);
    }

    [Fact]
    public void Injections_while_one_is_running_take_the_following_cycles()
    {
        var live = new LiveRobotCell(3, SceneOptions.Background);
        var schedule = new RobotCellScene(3, SceneOptions.Background).Schedule;
        live.Render(0.5, Size, Size);
        live.Inject(AnomalyKind.DroppedPart);
        live.Inject(AnomalyKind.MisplacedPart);

        var seen = new Dictionary<int, string?>();
        for (var t = 0.5; t < schedule.End(3); t += Step)
        {
            var frame = live.Render(t, Size, Size);
            seen[frame.Cycle] = frame.Anomaly;
        }

        Assert.Equal("dropped-part", seen[1]);
        Assert.Equal("misplaced-part", seen[2]);
        Assert.Null(seen[3]);
    }

    [Fact]
    public void Unknown_kind_is_rejected_with_the_valid_kinds()
    {
        var ex = Assert.Throws<ArgumentException>(() => LiveRobotCell.ParseKind("exploding-robot"));
        foreach (var kind in LiveRobotCell.AnomalyKinds)
        {
            Assert.Contains(kind, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(8, LiveRobotCell.AnomalyKinds.Count);
        Assert.Equal(AnomalyKind.CycleTooSlow, LiveRobotCell.ParseKind("cycle-too-slow"));
    }

    [Fact]
    public void Time_going_backwards_or_an_anomaly_in_the_options_is_rejected()
    {
        var live = new LiveRobotCell(1, SceneOptions.Background);
        live.Render(2, Size, Size);
        Assert.Throws<ArgumentOutOfRangeException>(() => live.Render(1, Size, Size));
        Assert.Throws<ArgumentException>(() => new LiveRobotCell(1, new SceneOptions(Anomaly: new AnomalySpec(AnomalyKind.DroppedPart, 1))));
    }
}
