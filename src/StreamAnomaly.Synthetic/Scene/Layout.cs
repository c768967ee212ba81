namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// Where things are in the robot cell. Positions are fractions of the frame (x of the width,
/// y of the height, y downwards); sizes marked "unit" are fractions of min(width, height).
/// </summary>
internal static class Layout
{
    public const double WallBottom = 0.56;

    public const double LampLeft = 0.30, LampRight = 0.70, LampTop = 0.05, LampBottom = 0.11;

    public const double BeltLeft = 0.0, BeltRight = 0.56, BeltTop = 0.69, BeltSurface = 0.715, BeltFront = 0.745, BeltBottom = 0.785;

    /// <summary>
    /// Belt speed, frame widths per second. Fast enough that a part's approach (from off-frame to the
    /// stopper, about 2.9 s) is shorter than the shortest cycle (0.6 x 0.94 x 6 s = 3.4 s), so part k+1
    /// is only ever seen during cycle k: an anomalous cycle never changes what the cycle before shows.
    /// </summary>
    public const double BeltSpeed = 0.18;

    public const double PickX = 0.45, StopperX = 0.49, BeltEndX = 0.53;

    public const double TrayLeft = 0.72, TrayRight = 0.92, TrayTop = 0.70, TrayFrontTop = 0.73, TrayBottom = 0.85;

    public const double PlaceX = 0.82;

    public const double FloorY = 0.95;

    /// <summary>Part height as a fraction of the frame height; its radius in units.</summary>
    public const double PartHeight = 0.075, PartRadius = 0.032;

    public const double ShoulderX = 0.63, ShoulderY = 0.74, UpperArm = 0.25, Forearm = 0.22;

    /// <summary>Vertical distance from the wrist joint down to the tool point (between the fingertips).</summary>
    public const double WristToTool = 0.075;

    /// <summary>Gripper finger offsets from the tool point, in units.</summary>
    public const double GripperOpen = 0.056, GripperHolding = 0.041, GripperEmpty = 0.012;

    /// <summary>The tool point holding a part standing on a surface at <paramref name="surfaceY"/>.</summary>
    public static double GraspY(double surfaceY) => surfaceY - (PartHeight / 2);

    /// <summary>
    /// Region of interest rectangles (x0, y0, x1, y1): belt (with what rides on it) and the floor in front of
    /// it (where dropped parts and foreign objects lie); robot workspace with the tray. Every anomaly of the scene lies inside it.
    /// </summary>
    public static readonly (double X0, double Y0, double X1, double Y1)[] RegionOfInterest =
    [
        (0.0, 0.58, 0.58, 1.0),
        (0.38, 0.28, 1.0, 1.0),
    ];
}
