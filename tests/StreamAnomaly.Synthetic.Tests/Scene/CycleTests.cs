using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Tests.Scene;

public sealed class CycleTests
{
    [Fact]
    public void Cycle_durations_stay_within_the_jitter_bounds()
    {
        var schedule = new CycleSchedule(seed: 9, baseDuration: 6.0, jitter: 0.06);

        var durations = Enumerable.Range(0, 200).Select(schedule.Duration).ToArray();

        Assert.All(durations, d => Assert.InRange(d, 6.0 * 0.94, 6.0 * 1.06));
        Assert.True(durations.Max() - durations.Min() > 0.3, "durations should actually vary");
    }

    [Fact]
    public void Cycle_starts_are_the_running_sum_of_durations()
    {
        var schedule = new CycleSchedule(seed: 9);

        Assert.Equal(schedule.Start(4) + schedule.Duration(4), schedule.Start(5), 9);
        Assert.Equal((4, 0.5), (schedule.At(schedule.Start(4) + (0.5 * schedule.Duration(4))).Cycle, 0.5));
    }

    [Theory]
    [InlineData(AnomalyKind.CycleTooFast, 0.6)]
    [InlineData(AnomalyKind.CycleTooSlow, 1.6)]
    public void Speed_anomalies_scale_only_their_cycle(AnomalyKind kind, double factor)
    {
        var normal = new RobotCellScene(4, SceneOptions.Background).Schedule;
        var changed = new RobotCellScene(4, SceneOptions.Background with { Anomaly = new AnomalySpec(kind, 1) }).Schedule;

        Assert.Equal(normal.Duration(0), changed.Duration(0), 9);
        Assert.Equal(normal.Duration(1) * factor, changed.Duration(1), 9);
        Assert.Equal(normal.Duration(2), changed.Duration(2), 9);
    }

    [Fact]
    public void The_arm_is_home_at_the_start_of_every_cycle_and_away_mid_cycle()
    {
        var scene = new RobotCellScene(13, SceneOptions.Background);

        for (var k = 0; k < 8; k++)
        {
            var (start, duration) = (scene.Schedule.Start(k), scene.Schedule.Duration(k));
            Assert.True(scene.ArmPoseAt(start + (0.05 * duration)).IsHome, $"cycle {k} should start at home");
            Assert.False(scene.ArmPoseAt(start + (0.5 * duration)).IsHome, $"cycle {k} should be away mid-cycle");
        }
    }

    [Fact]
    public void The_arm_returns_home_exactly_once_per_cycle()
    {
        var scene = new RobotCellScene(14, SceneOptions.Background);
        var end = scene.Schedule.Start(6);
        var arrivals = 0;
        var wasHome = false;

        for (var t = 0.0; t < end; t += 0.02)
        {
            var home = scene.ArmPoseAt(t).IsHome;
            arrivals += home && !wasHome ? 1 : 0;
            wasHome = home;
        }

        Assert.Equal(6, arrivals);
    }
}
