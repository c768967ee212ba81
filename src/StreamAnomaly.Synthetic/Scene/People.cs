using OpenCvSharp;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// A person walking behind the cell, left to right or right to left, drawn as an articulated
/// silhouette (hair, head, torso, two legs and two arms swinging with the walking phase). Near the
/// cell (robotcell-v1) walkers pass right behind the arm; on the far walkway (robotcell-v2) the same
/// walkers are drawn smaller and higher, clear of the arm's workspace and the region of interest.
/// </summary>
internal sealed record Walker(
    double Start, double Direction, double Speed, double Height, double FeetY, double PhaseOffset,
    Colour Shirt, Colour Trousers, Colour Skin, Colour Hair) : ITimedEvent
{
    private const double Margin = 0.15;

    /// <summary>Far walkway: walkers shrink by this factor and their feet rise to <see cref="FarFeetY"/> (minus half the near lane's spread).</summary>
    private const double FarScale = 0.42, FarFeetY = 0.265, NearFeetYMax = 0.66;

    /// <summary>Seconds until the walker has crossed the frame and is out of sight.</summary>
    public double End => Start + ((1 + (2 * Margin)) / Speed);

    private static readonly Colour[] Shirts = [new(160, 90, 40), new(40, 40, 150), new(60, 130, 60), new(190, 190, 185), new(50, 60, 70), new(40, 160, 200), new(140, 60, 120)];
    private static readonly Colour[] TrouserColours = [new(90, 60, 40), new(45, 45, 50), new(120, 110, 100), new(70, 90, 110)];
    private static readonly Colour[] Skins = [new(120, 150, 200), new(90, 120, 170), new(60, 85, 130), new(140, 170, 205)];
    private static readonly Colour[] Hairs = [new(30, 35, 45), new(40, 70, 110), new(150, 150, 150), new(30, 30, 30)];

    /// <summary>The next walker; both lanes draw the same numbers, so a seed gives the same walks in each.</summary>
    public static Walker Next(Random random, Walker? previous, bool farWalkway)
    {
        var start = previous is null ? -random.Uniform(0, 10) : previous.Start + random.Uniform(2.5, 9.0);
        var direction = random.Next(2) == 0 ? 1 : -1;
        var speed = random.Uniform(0.05, 0.12);
        var height = random.Uniform(0.28, 0.40);
        var feetY = random.Uniform(0.60, NearFeetYMax);
        if (farWalkway)
        {
            (height, feetY) = (FarScale * height, FarFeetY - (0.5 * (NearFeetYMax - feetY)));
        }

        return new Walker(
            start,
            direction,
            speed,
            height,
            feetY,
            random.Uniform(0, 2 * Math.PI),
            Vary(random, random.Pick(Shirts)),
            Vary(random, random.Pick(TrouserColours)),
            random.Pick(Skins),
            random.Pick(Hairs));
    }

    public void Draw(Canvas canvas, double t)
    {
        var walked = Speed * (t - Start);
        var x = (Direction > 0 ? -Margin : 1 + Margin) + (Direction * walked);
        var h = Height * canvas.Height;
        var cx = x * canvas.Width;
        var top = (FeetY * canvas.Height) - h;
        var phase = PhaseOffset + (2 * Math.PI * walked / (0.9 * Height));
        var swing = Math.Sin(phase);
        Point2d P(double dx, double dy) => new(cx + (dx * h), top + (dy * h));
        Point2d Limb(Point2d from, double length, double angle) => new(from.X + (Math.Sin(angle) * length * h), from.Y + (Math.Cos(angle) * length * h));

        var hip = P(0, 0.50);
        var shoulder = P(0, 0.20);
        canvas.Capsule(Layer.Person, Trousers.Scaled(0.85), hip, Limb(hip, 0.47, -0.45 * swing), 0.045 * h);
        canvas.Capsule(Layer.Person, Shirt.Scaled(0.85), shoulder, Limb(shoulder, 0.36, 0.40 * swing), 0.035 * h);
        canvas.Capsule(Layer.Person, Shirt, P(0, 0.19), P(0, 0.47), 0.085 * h);
        canvas.Capsule(Layer.Person, Trousers, hip, Limb(hip, 0.47, 0.45 * swing), 0.045 * h);
        var hand = Limb(shoulder, 0.36, -0.40 * swing);
        canvas.Capsule(Layer.Person, Shirt, shoulder, hand, 0.035 * h);
        canvas.Circle(Layer.Person, Skin, hand, 0.03 * h);
        canvas.Capsule(Layer.Person, Skin, P(0, 0.11), P(0, 0.17), 0.03 * h);
        canvas.Circle(Layer.Person, Hair, P(0, 0.068), 0.066 * h);
        canvas.Circle(Layer.Person, Skin, P(0.012 * Direction, 0.085), 0.058 * h);
    }

    private static Colour Vary(Random random, Colour c) =>
        Colour.Clamped(c.B + random.Uniform(-15, 15), c.G + random.Uniform(-15, 15), c.R + random.Uniform(-15, 15));
}
