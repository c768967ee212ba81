using OpenCvSharp;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>Kinds of foreign (abnormal) objects.</summary>
public enum ForeignObjectKind
{
    Wrench,
    Box,
    Bottle,
    Rag,
    Screwdriver,
}

/// <summary>
/// A foreign object: kind, centre (fractions of the frame), rotation in radians, size factor, main
/// colour and a seed for its irregular shape (the rag).
/// </summary>
internal sealed record ForeignObject(ForeignObjectKind Kind, double X, double Y, double Angle, double Scale, Colour Colour, int ShapeSeed)
{
    private static readonly Colour[] Colours =
    [
        new(40, 40, 190), new(170, 170, 165), new(180, 120, 40), new(60, 150, 60), new(80, 140, 180),
        new(200, 200, 200), new(140, 60, 140), new(30, 30, 30), new(40, 200, 200),
    ];

    /// <summary>A random object of any kind centred at (x, y).</summary>
    public static ForeignObject Random(Random random, double x, double y, double scale) =>
        new(
            (ForeignObjectKind)random.Next(Enum.GetValues<ForeignObjectKind>().Length),
            x,
            y,
            random.Uniform(0, Math.PI),
            scale * random.Uniform(0.85, 1.15),
            random.Pick(Colours),
            random.Next());

    /// <summary>This object moved to (x, y).</summary>
    public ForeignObject At(double x, double y) => this with { X = x, Y = y };

    public void Draw(Canvas canvas)
    {
        var u = canvas.Unit * Scale;
        var centre = canvas.At(X, Y);
        var (c, s) = (Math.Cos(Angle), Math.Sin(Angle));
        Point2d P(double along, double across) => new(centre.X + (((along * c) - (across * s)) * u), centre.Y + (((along * s) + (across * c)) * u));
        switch (Kind)
        {
            case ForeignObjectKind.Wrench:
                canvas.Capsule(Layer.Foreign, Colour, P(-0.09, 0), P(0.09, 0), 0.016 * u);
                canvas.Ring(Layer.Foreign, Colour, P(-0.11, 0), 0.035 * u, 0.017 * u);
                canvas.Circle(Layer.Foreign, Colour.Scaled(0.8), P(0.11, 0), 0.03 * u);
                break;
            case ForeignObjectKind.Box:
                canvas.RotatedRect(Layer.Foreign, Colour, centre, 0.15 * u, 0.10 * u, Angle);
                canvas.RotatedRect(Layer.Foreign, Colour.Mix(new Colour(200, 200, 200), 0.5), centre, 0.15 * u, 0.022 * u, Angle);
                break;
            case ForeignObjectKind.Bottle:
                canvas.Capsule(Layer.Foreign, Colour, P(-0.05, 0), P(0.04, 0), 0.032 * u);
                canvas.Capsule(Layer.Foreign, Colour.Scaled(0.85), P(0.04, 0), P(0.09, 0), 0.013 * u);
                canvas.Capsule(Layer.Foreign, new Colour(60, 60, 180), P(0.095, 0), P(0.105, 0), 0.016 * u);
                break;
            case ForeignObjectKind.Rag:
                var random = new Random(ShapeSeed);
                var points = Enumerable.Range(0, 9)
                    .Select(i => (i * 2 * Math.PI / 9) + random.Uniform(-0.2, 0.2))
                    .Select(a => { var r = random.Uniform(0.045, 0.085); return P(r * Math.Cos(a), r * Math.Sin(a)); })
                    .ToArray();
                canvas.Polygon(Layer.Foreign, Colour, points);
                canvas.Capsule(Layer.Foreign, Colour.Scaled(0.8), P(-0.03, -0.01), P(0.03, 0.02), 0.008 * u);
                break;
            case ForeignObjectKind.Screwdriver:
                canvas.Capsule(Layer.Foreign, new Colour(165, 165, 160), P(0, 0), P(0.11, 0), 0.007 * u);
                canvas.Capsule(Layer.Foreign, Colour, P(-0.08, 0), P(0, 0), 0.021 * u);
                break;
            default:
                throw new InvalidOperationException($"unknown foreign object kind {Kind}");
        }
    }
}
