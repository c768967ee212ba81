namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// The robot arm's state at one instant: the tool point (between the fingertips) as fractions of
/// the frame width and height, and the finger offset from the tool point in units of
/// min(width, height). The joints follow by inverse kinematics (elbow up).
/// </summary>
public sealed record ArmPose(double ToolX, double ToolY, double Opening)
{
    /// <summary>The pose at the start and end of every cycle.</summary>
    public static ArmPose Home { get; } = new(Layout.ShoulderX, 0.40, Layout.GripperOpen);

    /// <summary>True when this pose equals <see cref="Home"/> within 1e-9.</summary>
    public bool IsHome =>
        Math.Abs(ToolX - Home.ToolX) < 1e-9 && Math.Abs(ToolY - Home.ToolY) < 1e-9 && Math.Abs(Opening - Home.Opening) < 1e-9;

    /// <summary>Wrist and elbow positions (fractions of the frame) for this pose.</summary>
    internal ((double X, double Y) Wrist, (double X, double Y) Elbow) Joints()
    {
        var (wx, wy) = (ToolX, ToolY - Layout.WristToTool);
        var (dx, dy) = (wx - Layout.ShoulderX, wy - Layout.ShoulderY);
        var d = Math.Clamp(Math.Sqrt((dx * dx) + (dy * dy)), Math.Abs(Layout.UpperArm - Layout.Forearm) + 1e-6, Layout.UpperArm + Layout.Forearm - 1e-6);
        var a = Math.Atan2(dy, dx);
        var cosB = ((Layout.UpperArm * Layout.UpperArm) + (d * d) - (Layout.Forearm * Layout.Forearm)) / (2 * Layout.UpperArm * d);
        var b = Math.Acos(Math.Clamp(cosB, -1, 1));
        var e1 = (Layout.ShoulderX + (Layout.UpperArm * Math.Cos(a + b)), Layout.ShoulderY + (Layout.UpperArm * Math.Sin(a + b)));
        var e2 = (Layout.ShoulderX + (Layout.UpperArm * Math.Cos(a - b)), Layout.ShoulderY + (Layout.UpperArm * Math.Sin(a - b)));
        return ((wx, wy), e1.Item2 < e2.Item2 ? e1 : e2);
    }
}
