using OpenCvSharp;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// The robot-cell scene as a pure function of (seed, options, time t in seconds): back wall with a
/// lamp panel, shadows and people behind the cell, the floor, a conveyor belt bringing yellow
/// cylinders, a robot arm picking each one and placing it in an output tray in a jittered periodic
/// cycle (<see cref="Schedule"/>), a worker's hand now and then, optional anomalies, a slow additive
/// lighting drift and sensor noise. Renders at any resolution (at least 8 x 8) with no antialiasing,
/// so masks are exact (see <see cref="SceneFrame"/>). Caches event sequences; not thread-safe.
/// </summary>
public sealed class RobotCellScene
{
    private static readonly Colour BeltTopColour = new(62, 62, 66), BeltStripe = new(98, 98, 104), BeltSide = new(46, 48, 52), BeltLegs = new(82, 84, 90);
    private static readonly Colour StopperColour = new(120, 100, 80), TrayBack = new(70, 92, 112), TrayFront = new(92, 124, 152), TrayLip = new(110, 145, 172);
    private static readonly Colour PartBody = new(40, 185, 205), PartTop = new(96, 206, 214), PartShade = new(30, 150, 176);
    private static readonly Colour RobotBase = new(70, 72, 78), RobotJoint = new(56, 56, 62), RobotLink = new(36, 120, 205), RobotLinkShade = new(30, 100, 180), Gripper = new(138, 140, 146);

    private readonly CellMotion _motion;
    private readonly EventTrack<Walker> _walkers;
    private readonly EventTrack<HandVisit> _hands;
    private readonly EventTrack<WallShadow> _shadows;
    private readonly EventTrack<LampFlicker> _flickers;
    private readonly ForeignObject? _foreign;
    private readonly double _driftPhase1, _driftPhase2;
    private RobotCellScene? _counterfactual;

    public RobotCellScene(int seed, SceneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Seed = seed;
        Options = options;
        var anomaly = options.Anomaly;
        Schedule = new CycleSchedule(seed, scaledCycle: anomaly?.Cycle ?? -1, scale: anomaly?.DurationScale ?? 1.0);
        var anomalyRandom = SeedMix.Random(seed, SeedMix.Stream.Anomaly, 0);
        _motion = new CellMotion(Schedule, anomaly, anomalyRandom);
        _foreign = anomaly?.Kind switch
        {
            AnomalyKind.ForeignObjectOnBelt => ForeignObject.Random(anomalyRandom, 0, Layout.BeltSurface - 0.02, 0.75),
            AnomalyKind.ForeignObjectBesideBelt => ForeignObject.Random(anomalyRandom, anomalyRandom.Uniform(0.08, 0.40), anomalyRandom.Uniform(0.86, 0.92), 1.0),
            _ => null,
        };
        _walkers = new EventTrack<Walker>(seed, SeedMix.Stream.People, (random, previous) => Walker.Next(random, previous, options.FarWalkway));
        _hands = new EventTrack<HandVisit>(seed, SeedMix.Stream.Hands, HandVisit.Next);
        _shadows = new EventTrack<WallShadow>(seed, SeedMix.Stream.Shadows, WallShadow.Next);
        _flickers = new EventTrack<LampFlicker>(seed, SeedMix.Stream.Flicker, LampFlicker.Next);
        var drift = SeedMix.Random(seed, SeedMix.Stream.Drift, 0);
        (_driftPhase1, _driftPhase2) = (drift.Uniform(0, 2 * Math.PI), drift.Uniform(0, 2 * Math.PI));
    }

    /// <summary>The clip seed.</summary>
    public int Seed { get; }

    /// <summary>What is switched on.</summary>
    public SceneOptions Options { get; }

    /// <summary>When each cycle starts (including the anomalous cycle's changed speed, if any).</summary>
    public CycleSchedule Schedule { get; }

    /// <summary>The same scene with the anomaly switched off (itself when there is none).</summary>
    public RobotCellScene Counterfactual =>
        Options.Anomaly is null ? this : _counterfactual ??= new RobotCellScene(Seed, Options with { Anomaly = null });

    /// <summary>The arm's pose at time t (seconds, &gt;= 0).</summary>
    public ArmPose ArmPoseAt(double t) => _motion.ArmPoseAt(t);

    /// <summary>Global additive lighting offset at time t, in grey levels, |offset| &lt;= 8 (0 when drift is off).</summary>
    public int LightingOffset(double t) => Options.LightingDrift
        ? (int)Math.Round((5 * Math.Sin((2 * Math.PI * t / 53) + _driftPhase1)) + (3 * Math.Sin((2 * Math.PI * t / 17) + _driftPhase2)))
        : 0;

    /// <summary>Renders the frame at time t (seconds, &gt;= 0) at width x height pixels, with its masks.</summary>
    public SceneFrame Render(double t, int width, int height) => Render(t, width, height, overlay: null);

    /// <summary>
    /// The task region of interest (the "ideal mask" of the seed-002 paper): belt, robot workspace
    /// and tray; static.
    /// </summary>
    public static BinaryMask RegionOfInterest(int width, int height)
    {
        var data = new bool[width * height];
        for (var y = 0; y < height; y++)
        {
            var fy = (y + 0.5) / height;
            for (var x = 0; x < width; x++)
            {
                var fx = (x + 0.5) / width;
                data[(y * width) + x] = Layout.RegionOfInterest.Any(r => fx >= r.X0 && fx < r.X1 && fy >= r.Y0 && fy < r.Y1);
            }
        }

        return new BinaryMask(width, height, data);
    }

    /// <summary>Renders with an optional overlay drawn last (pasted patches); masks as in <see cref="SceneFrame"/>.</summary>
    internal SceneFrame Render(double t, int width, int height, Action<Canvas>? overlay)
    {
        using var canvas = RenderCanvas(t, width, height, overlay);
        BinaryMask anomaly;
        if (Options.Anomaly is null)
        {
            anomaly = BinaryMask.Empty(width, height);
        }
        else
        {
            using var normal = Counterfactual.RenderCanvas(t, width, height, overlay);
            anomaly = canvas.DiffersFrom(normal);
        }

        return new SceneFrame(Finish(canvas, t), canvas.MaskOf(Layer.Hand), canvas.MaskOf(Layer.Person), anomaly);
    }

    /// <summary>Adds lighting drift and sensor noise (both seeded by (seed, t) only) to a clean canvas.</summary>
    internal Frame Finish(Canvas canvas, double t) =>
        canvas.ToFrame(LightingOffset(t), Options.SensorNoise ? SeedMix.Random(Seed, SeedMix.Stream.Noise, (long)Math.Round(t * 1000)) : null);

    /// <summary>The clean canvas (no drift, no noise) at time t.</summary>
    internal Canvas RenderCanvas(double t, int width, int height, Action<Canvas>? overlay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        var canvas = new Canvas(width, height);
        var lamp = Options.LampFlicker ? _flickers.ActiveAt(t).Select(f => f.Brightness(t)).DefaultIfEmpty(1).Min() : 1;
        var shadows = Options.Shadows ? _shadows.ActiveAt(t).ToArray() : [];
        Backdrop.Draw(canvas, lamp, shadows, t);
        if (Options.People)
        {
            foreach (var walker in _walkers.ActiveAt(t).OrderBy(w => w.FeetY))
            {
                walker.Draw(canvas, t);
            }
        }

        DrawConveyor(canvas, t);
        canvas.Polygon(Layer.Tray, TrayBack, canvas.At(Layout.TrayLeft, Layout.TrayTop), canvas.At(Layout.TrayRight, Layout.TrayTop), canvas.At(Layout.TrayRight, Layout.TrayFrontTop), canvas.At(Layout.TrayLeft, Layout.TrayFrontTop));
        foreach (var part in _motion.PartsAt(t))
        {
            DrawPart(canvas, part);
        }

        DrawTrayFront(canvas);
        DrawRobot(canvas, _motion.ArmPoseAt(t));
        DrawForeignObject(canvas, t);
        if (Options.Hands)
        {
            foreach (var hand in _hands.ActiveAt(t))
            {
                hand.Draw(canvas, t);
            }
        }

        overlay?.Invoke(canvas);
        return canvas;
    }

    private void DrawForeignObject(Canvas canvas, double t)
    {
        if (_foreign is null || Options.Anomaly is not { } anomaly)
        {
            return;
        }

        var start = Schedule.Start(anomaly.Cycle);
        var duration = Schedule.Duration(anomaly.Cycle);
        if (anomaly.Kind == AnomalyKind.ForeignObjectOnBelt)
        {
            var appear = start + (0.05 * duration);
            if (t >= appear)
            {
                _foreign.At(Math.Min(0.34, -0.08 + (Layout.BeltSpeed * (t - appear))), _foreign.Y).Draw(canvas);
            }
        }
        else if (t >= start + (0.15 * duration))
        {
            _foreign.Draw(canvas);
        }
    }

    private static void DrawConveyor(Canvas canvas, double t)
    {
        var (left, right) = (Layout.BeltLeft, Layout.BeltRight);
        canvas.Capsule(Layer.Conveyor, BeltLegs, canvas.At(0.08, Layout.BeltBottom), canvas.At(0.08, 0.93), 0.012 * canvas.Unit);
        canvas.Capsule(Layer.Conveyor, BeltLegs, canvas.At(0.48, Layout.BeltBottom), canvas.At(0.48, 0.93), 0.012 * canvas.Unit);
        canvas.Polygon(Layer.Conveyor, BeltTopColour, canvas.At(left, Layout.BeltTop), canvas.At(right, Layout.BeltTop), canvas.At(right, Layout.BeltFront), canvas.At(left, Layout.BeltFront));
        const double Spacing = 0.06, StripeWidth = 0.014;
        var offset = (Layout.BeltSpeed * t) % Spacing;
        for (var x = left - Spacing + offset; x < right; x += Spacing)
        {
            var (x0, x1) = (Math.Max(left, x), Math.Min(right, x + StripeWidth));
            if (x1 > x0)
            {
                canvas.Polygon(Layer.Conveyor, BeltStripe, canvas.At(x0, Layout.BeltTop), canvas.At(x1, Layout.BeltTop), canvas.At(x1, Layout.BeltFront), canvas.At(x0, Layout.BeltFront));
            }
        }

        canvas.Polygon(Layer.Conveyor, BeltSide, canvas.At(left, Layout.BeltFront), canvas.At(right, Layout.BeltFront), canvas.At(right, Layout.BeltBottom), canvas.At(left, Layout.BeltBottom));
        canvas.Circle(Layer.Conveyor, BeltSide.Scaled(1.3), canvas.At(right, (Layout.BeltFront + Layout.BeltBottom) / 2), 0.02 * canvas.Unit);
        canvas.Polygon(Layer.Conveyor, StopperColour, canvas.At(Layout.StopperX, 0.655), canvas.At(Layout.StopperX + 0.012, 0.655), canvas.At(Layout.StopperX + 0.012, Layout.BeltSurface), canvas.At(Layout.StopperX, Layout.BeltSurface));
    }

    private static void DrawTrayFront(Canvas canvas)
    {
        canvas.Polygon(Layer.Tray, TrayFront, canvas.At(Layout.TrayLeft - 0.01, Layout.TrayFrontTop), canvas.At(Layout.TrayRight + 0.01, Layout.TrayFrontTop), canvas.At(Layout.TrayRight, Layout.TrayBottom), canvas.At(Layout.TrayLeft, Layout.TrayBottom));
        canvas.Polygon(Layer.Tray, TrayLip, canvas.At(Layout.TrayLeft - 0.01, Layout.TrayFrontTop), canvas.At(Layout.TrayRight + 0.01, Layout.TrayFrontTop), canvas.At(Layout.TrayRight + 0.01, Layout.TrayFrontTop + 0.015), canvas.At(Layout.TrayLeft - 0.01, Layout.TrayFrontTop + 0.015));
        canvas.Capsule(Layer.Tray, TrayBack, canvas.At(Layout.TrayLeft + 0.02, Layout.TrayBottom), canvas.At(Layout.TrayLeft + 0.02, 0.94), 0.01 * canvas.Unit);
        canvas.Capsule(Layer.Tray, TrayBack, canvas.At(Layout.TrayRight - 0.02, Layout.TrayBottom), canvas.At(Layout.TrayRight - 0.02, 0.94), 0.01 * canvas.Unit);
    }

    private static void DrawPart(Canvas canvas, PartState part)
    {
        var r = Layout.PartRadius * canvas.Unit;
        var h = Layout.PartHeight * canvas.Height;
        var bottom = canvas.At(part.X, part.BaseY);
        if (part.Lying)
        {
            var cy = bottom.Y - r;
            canvas.Polygon(Layer.Part, PartBody, new(bottom.X - (h / 2), cy - r), new(bottom.X + (h / 2), cy - r), new(bottom.X + (h / 2), cy + r), new(bottom.X - (h / 2), cy + r));
            canvas.Ellipse(Layer.Part, PartShade, new(bottom.X - (h / 2), cy), 0.3 * r, r, 0);
            canvas.Ellipse(Layer.Part, PartTop, new(bottom.X + (h / 2), cy), 0.3 * r, r, 0);
            return;
        }

        canvas.Ellipse(Layer.Part, PartShade, bottom, r, 0.3 * r, 0);
        canvas.Polygon(Layer.Part, PartBody, new(bottom.X - r, bottom.Y - h), new(bottom.X + r, bottom.Y - h), new(bottom.X + r, bottom.Y), new(bottom.X - r, bottom.Y));
        canvas.Ellipse(Layer.Part, PartTop, new(bottom.X, bottom.Y - h), r, 0.3 * r, 0);
    }

    private static void DrawRobot(Canvas canvas, ArmPose pose)
    {
        var u = canvas.Unit;
        var ((wx, wy), (ex, ey)) = pose.Joints();
        var shoulder = canvas.At(Layout.ShoulderX, Layout.ShoulderY);
        var elbow = canvas.At(ex, ey);
        var wrist = canvas.At(wx, wy);
        var tool = canvas.At(pose.ToolX, pose.ToolY);
        canvas.Polygon(Layer.Robot, RobotBase, canvas.At(0.575, 0.96), canvas.At(0.685, 0.96), canvas.At(0.665, 0.76), canvas.At(0.595, 0.76));
        canvas.Circle(Layer.Robot, RobotJoint, shoulder, 0.042 * u);
        canvas.Capsule(Layer.Robot, RobotLink, shoulder, elbow, 0.026 * u);
        canvas.Circle(Layer.Robot, RobotJoint, elbow, 0.03 * u);
        canvas.Capsule(Layer.Robot, RobotLinkShade, elbow, wrist, 0.02 * u);
        canvas.Circle(Layer.Robot, RobotJoint, wrist, 0.022 * u);
        var palmY = wrist.Y + (0.3 * (tool.Y - wrist.Y));
        var opening = pose.Opening * u;
        canvas.Capsule(Layer.Robot, Gripper, wrist, new(tool.X, palmY), 0.014 * u);
        canvas.Capsule(Layer.Robot, Gripper, new(tool.X - opening, palmY), new(tool.X + opening, palmY), 0.01 * u);
        var tipY = tool.Y + (0.2 * (tool.Y - wrist.Y));
        canvas.Capsule(Layer.Robot, RobotJoint, new(tool.X - opening, palmY), new(tool.X - opening, tipY), 0.008 * u);
        canvas.Capsule(Layer.Robot, RobotJoint, new(tool.X + opening, palmY), new(tool.X + opening, tipY), 0.008 * u);
    }
}
