using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Tests.Scene;

public sealed class Seed002LabelTests
{
    private const int Size = 48;
    private const double Fps = 5;

    public static TheoryData<AnomalyKind> Kinds => new(Enum.GetValues<AnomalyKind>());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Normal_cycle_is_all_0_and_the_abnormal_cycle_has_1s(AnomalyKind kind)
    {
        var scene = new RobotCellScene(31, SceneOptions.WithPeople with { Anomaly = new AnomalySpec(kind, 1) });
        var labels = new List<(double T, int Label)>();
        for (var i = 0; i / Fps < scene.Schedule.End(1); i++)
        {
            labels.Add((i / Fps, scene.Render(i / Fps, Size, Size).Label));
        }

        Assert.All(labels.Where(l => l.T < scene.Schedule.Start(1)), l => Assert.Equal(0, l.Label));
        Assert.Contains(labels, l => l.Label == 1);
    }
}
