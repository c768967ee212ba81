namespace StreamAnomaly.Synthetic.Scene;

/// <summary>Where one part is: its bottom-centre (fractions of the frame), upright or lying on its side.</summary>
internal readonly record struct PartState(double X, double BaseY, bool Lying);

/// <summary>
/// The pick-and-place cycle as a pure function of time: the arm pose and the parts' positions.
/// Cycle phases (fractions of the cycle): home 0-0.10, to above pick 0.25, down 0.33, grip 0.40,
/// up 0.47, carry to above place 0.65, down 0.72, release 0.78, up 0.84, home 1.0.
/// Part k arrives at the belt's stopper 0.08 nominal cycles after cycle k starts (so its approach
/// depends only on earlier cycles), is gripped, carried, released and sinks into the tray.
/// </summary>
internal sealed class CellMotion
{
    private static readonly double[] Phases = [0.00, 0.10, 0.25, 0.33, 0.40, 0.47, 0.65, 0.72, 0.78, 0.84, 1.00];
    private const double GripPhase = 0.40, ReleasePhase = 0.78, DropPhase = 0.56, StallPhase = 0.52, MissedPickLift = 0.08;
    private const double ArrivalDelay = 0.08, Gravity = 4.0, SinkDepth = 0.09, SinkSeconds = 0.5, VanishSeconds = 0.8;

    private readonly AnomalySpec? _anomaly;
    private readonly double _misplacedDx;

    public CellMotion(CycleSchedule schedule, AnomalySpec? anomaly, Random anomalyRandom)
    {
        Schedule = schedule;
        _anomaly = anomaly;
        _misplacedDx = (anomalyRandom.Next(2) == 0 ? -1 : 1) * 0.075;
    }

    public CycleSchedule Schedule { get; }

    public ArmPose ArmPoseAt(double t)
    {
        if (Is(AnomalyKind.StalledArm, out var stalled) && t > StallTime(stalled))
        {
            t = StallTime(stalled);
        }

        var (k, u) = Schedule.At(t);
        var keys = KeyPoses(k);
        var i = 0;
        while (i < Phases.Length - 2 && u >= Phases[i + 1])
        {
            i++;
        }

        var f = SmoothStep((u - Phases[i]) / (Phases[i + 1] - Phases[i]));
        var (a, b) = (keys[i], keys[i + 1]);
        return new ArmPose(Lerp(a.ToolX, b.ToolX, f), Lerp(a.ToolY, b.ToolY, f), Lerp(a.Opening, b.Opening, f));
    }

    /// <summary>The visible parts at time t.</summary>
    public IEnumerable<PartState> PartsAt(double t)
    {
        var (current, _) = Schedule.At(t);
        for (var k = Math.Max(0, current - 1); k <= current + 2; k++)
        {
            if (PartAt(k, t) is { } part)
            {
                yield return part;
            }
        }
    }

    private PartState? PartAt(int k, double t)
    {
        var start = Schedule.Start(k);
        var duration = Schedule.Duration(k);
        var arrive = start + (ArrivalDelay * Schedule.BaseDuration);
        var grip = start + (GripPhase * duration);
        var release = start + (ReleasePhase * duration);
        if (t < arrive)
        {
            var x = Layout.PickX - (Layout.BeltSpeed * (arrive - t));
            return x < -0.08 ? null : new PartState(x, Layout.BeltSurface, false);
        }

        if (t < grip)
        {
            return new PartState(Layout.PickX, Layout.BeltSurface, false);
        }

        if (IsIn(AnomalyKind.MissedPick, k))
        {
            return new PartState(Math.Min(Layout.BeltEndX, Layout.PickX + (Layout.BeltSpeed * (t - grip))), Layout.BeltSurface, false);
        }

        if (IsIn(AnomalyKind.DroppedPart, k) && t >= start + (DropPhase * duration))
        {
            var drop = start + (DropPhase * duration);
            var at = ArmPoseAt(drop);
            var y = at.ToolY + (Layout.PartHeight / 2) + (0.5 * Gravity * (t - drop) * (t - drop));
            return y >= Layout.FloorY ? new PartState(at.ToolX, Layout.FloorY, true) : new PartState(at.ToolX, y, false);
        }

        var stalled = IsIn(AnomalyKind.StalledArm, k);
        if (t < release || stalled)
        {
            var pose = ArmPoseAt(t);
            return new PartState(pose.ToolX, pose.ToolY + (Layout.PartHeight / 2), false);
        }

        if (IsIn(AnomalyKind.MisplacedPart, k))
        {
            return new PartState(Layout.PlaceX + _misplacedDx, Layout.BeltSurface, false);
        }

        var sunk = t - release;
        return sunk >= VanishSeconds
            ? null
            : new PartState(Layout.PlaceX, Layout.BeltSurface + (SinkDepth * Math.Min(1, sunk / SinkSeconds)), false);
    }

    private ArmPose[] KeyPoses(int k)
    {
        var home = ArmPose.Home;
        var pickY = Layout.GraspY(Layout.BeltSurface) - (IsIn(AnomalyKind.MissedPick, k) ? MissedPickLift : 0);
        var holding = IsIn(AnomalyKind.MissedPick, k) ? Layout.GripperEmpty : Layout.GripperHolding;
        var placeX = Layout.PlaceX + (IsIn(AnomalyKind.MisplacedPart, k) ? _misplacedDx : 0);
        var placeY = Layout.GraspY(Layout.BeltSurface);
        const double AboveY = 0.53;
        const double Open = Layout.GripperOpen;
        return
        [
            home,
            home,
            new(Layout.PickX, AboveY, Open),
            new(Layout.PickX, pickY, Open),
            new(Layout.PickX, pickY, holding),
            new(Layout.PickX, AboveY, holding),
            new(placeX, AboveY, holding),
            new(placeX, placeY, holding),
            new(placeX, placeY, Open),
            new(placeX, AboveY, Open),
            home,
        ];
    }

    private double StallTime(int cycle) => Schedule.Start(cycle) + (StallPhase * Schedule.Duration(cycle));

    private bool Is(AnomalyKind kind, out int cycle)
    {
        cycle = _anomaly?.Cycle ?? -1;
        return _anomaly?.Kind == kind;
    }

    private bool IsIn(AnomalyKind kind, int cycle) => _anomaly?.Kind == kind && _anomaly.Cycle == cycle;

    private static double Lerp(double a, double b, double f) => a + ((b - a) * f);

    private static double SmoothStep(double x)
    {
        x = Math.Clamp(x, 0, 1);
        return x * x * (3 - (2 * x));
    }
}
