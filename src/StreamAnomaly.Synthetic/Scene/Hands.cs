using OpenCvSharp;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// A worker's hand (the normal object): skin-toned or gloved palm, four fingers, a thumb and a
/// sleeve. All lengths are in units of min(width, height) times <see cref="Scale"/>.
/// </summary>
internal sealed record HandLook(double Scale, Colour Skin, Colour Sleeve)
{
    private static readonly Colour[] Skins = [new(120, 150, 200), new(95, 125, 175), new(65, 90, 135), new(140, 170, 205), new(200, 130, 60), new(60, 60, 60)];
    private static readonly Colour[] Sleeves = [new(120, 70, 40), new(40, 40, 40), new(60, 110, 60), new(40, 140, 200), new(170, 170, 165), new(70, 70, 150)];

    public static HandLook Random(Random random) => new(random.Uniform(0.9, 1.2), random.Pick(Skins), random.Pick(Sleeves));

    /// <summary>Wrist-to-fingertip length in pixels.</summary>
    public double Length(Canvas canvas) => 0.16 * canvas.Unit * Scale;

    /// <summary>
    /// Draws the hand with its wrist at <paramref name="wrist"/> (pixels), fingers pointing along
    /// the unit vector <paramref name="direction"/>, and a sleeve reaching <paramref name="sleeveLength"/> pixels back.
    /// </summary>
    public void Draw(Canvas canvas, Point2d wrist, Point2d direction, double sleeveLength)
    {
        var u = canvas.Unit * Scale;
        var perp = new Point2d(-direction.Y, direction.X);
        Point2d At(double along, double across) => new(wrist.X + (direction.X * along * u) + (perp.X * across * u), wrist.Y + (direction.Y * along * u) + (perp.Y * across * u));
        var angle = Math.Atan2(direction.Y, direction.X) * 180 / Math.PI;

        canvas.Capsule(Layer.Hand, Sleeve, At(-0.02, 0), At(-0.02 - (sleeveLength / u), 0), 0.045 * u);
        canvas.Capsule(Layer.Hand, Skin.Scaled(0.92), At(0.02, 0.03), At(0.06, 0.06), 0.011 * u);
        canvas.Ellipse(Layer.Hand, Skin, At(0.045, 0), 0.05 * u, 0.036 * u, angle);
        double[] lengths = [0.055, 0.066, 0.062, 0.048];
        for (var j = 0; j < 4; j++)
        {
            var across = -0.027 + (j * 0.018);
            canvas.Capsule(Layer.Hand, Skin, At(0.08, across), At(0.08 + lengths[j], across * 1.15), 0.0085 * u);
        }
    }
}

/// <summary>A hand reaching in from a frame edge for a while (scene hands).</summary>
internal sealed record HandVisit(double Start, double End, int Edge, double Along, double Tilt, double Depth, HandLook Look) : ITimedEvent
{
    private const double EaseSeconds = 0.6;

    public static HandVisit Next(Random random, HandVisit? previous)
    {
        var start = (previous?.End ?? 0) + random.Uniform(previous is null ? 0.3 : 1.0, previous is null ? 2.5 : 4.0);
        var edgeRoll = random.NextDouble();
        return new HandVisit(
            start,
            start + random.Uniform(1.5, 3.5),
            edgeRoll < 0.5 ? 0 : edgeRoll < 0.75 ? 1 : 2,
            random.Uniform(0.15, 0.85),
            random.Uniform(-0.35, 0.35),
            random.Uniform(0.25, 0.45),
            HandLook.Random(random));
    }

    /// <summary>Draws the hand at time t: it slides in along its direction, stays, and slides out.</summary>
    public void Draw(Canvas canvas, double t)
    {
        var reach = Ease(Math.Min(1, (t - Start) / EaseSeconds)) * Ease(Math.Min(1, (End - t) / EaseSeconds));
        var (entry, inward, span) = Edge switch
        {
            0 => (canvas.At(Along, 1), new Point2d(0, -1), canvas.Height),
            1 => (canvas.At(0, Along), new Point2d(1, 0), canvas.Width),
            _ => (canvas.At(1, Along), new Point2d(-1, 0), canvas.Width),
        };
        var (c, s) = (Math.Cos(Tilt), Math.Sin(Tilt));
        var direction = new Point2d((inward.X * c) - (inward.Y * s), (inward.X * s) + (inward.Y * c));
        var length = Look.Length(canvas);
        var travel = (reach * Depth * span) - length;
        var wrist = new Point2d(entry.X + (direction.X * travel), entry.Y + (direction.Y * travel));
        Look.Draw(canvas, wrist, direction, (Depth * span) + length + (0.1 * canvas.Unit));
    }

    private static double Ease(double x) => x <= 0 ? 0 : x * x * (3 - (2 * x));
}
