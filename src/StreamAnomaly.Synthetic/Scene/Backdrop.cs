namespace StreamAnomaly.Synthetic.Scene;

/// <summary>A soft shadow drifting across the back wall (translucent darkening).</summary>
internal sealed record WallShadow(double Start, double End, double Y, double RadiusX, double RadiusY, double Darkness, double Direction) : ITimedEvent
{
    public static WallShadow Next(Random random, WallShadow? previous)
    {
        var start = previous is null ? -random.Uniform(0, 6) : previous.Start + random.Uniform(2, 7);
        return new WallShadow(start, start + random.Uniform(5, 11), random.Uniform(0.15, 0.45), random.Uniform(0.08, 0.18), random.Uniform(0.10, 0.22), random.Uniform(0.20, 0.40), random.Next(2) == 0 ? 1 : -1);
    }

    /// <summary>Darkening factor in (0, 1] at a wall point (fractions of the frame) at time t.</summary>
    public double Factor(double x, double y, double t)
    {
        var progress = (t - Start) / (End - Start);
        var cx = Direction > 0 ? -0.2 + (1.4 * progress) : 1.2 - (1.4 * progress);
        var (dx, dy) = ((x - cx) / RadiusX, (y - Y) / RadiusY);
        var d = (dx * dx) + (dy * dy);
        return d >= 1 ? 1 : 1 - (Darkness * (1 - d) * (1 - d));
    }
}

/// <summary>A short flicker of the lamp panel.</summary>
internal sealed record LampFlicker(double Start, double End, double Depth, double Rate) : ITimedEvent
{
    public static LampFlicker Next(Random random, LampFlicker? previous)
    {
        var start = (previous?.End ?? 0) + random.Uniform(2, 10);
        return new LampFlicker(start, start + random.Uniform(0.2, 0.8), random.Uniform(0.25, 0.45), random.Uniform(6, 12));
    }

    /// <summary>Lamp brightness factor in [0.55, 1] at time t.</summary>
    public double Brightness(double t) => 1 - (Depth * Math.Abs(Math.Sin(2 * Math.PI * Rate * (t - Start))));
}

/// <summary>The static back of the scene, drawn per pixel: wall gradient, lamp panel, shadows, floor.</summary>
internal static class Backdrop
{
    private static readonly Colour WallTop = new(172, 178, 180), WallLow = new(138, 146, 150), Skirting = new(82, 86, 92);
    private static readonly Colour FloorFar = new(112, 116, 121), FloorNear = new(88, 92, 98);
    private static readonly Colour LampFrame = new(92, 92, 96), LampLight = new(206, 213, 215);

    public static void Draw(Canvas canvas, double lampBrightness, IReadOnlyList<WallShadow> shadows, double t)
    {
        var lamp = LampLight.Scaled(lampBrightness);
        for (var y = 0; y < canvas.Height; y++)
        {
            var fy = (y + 0.5) / canvas.Height;
            for (var x = 0; x < canvas.Width; x++)
            {
                var fx = (x + 0.5) / canvas.Width;
                canvas.SetPixel(x, y, Pixel(fx, fy, lamp, shadows, t, canvas), Layer.Background);
            }
        }
    }

    private static Colour Pixel(double fx, double fy, Colour lamp, IReadOnlyList<WallShadow> shadows, double t, Canvas canvas)
    {
        if (fy >= Layout.WallBottom)
        {
            return fy < Layout.WallBottom + 0.015 ? Skirting : FloorFar.Mix(FloorNear, (fy - Layout.WallBottom) / (1 - Layout.WallBottom));
        }

        Colour colour;
        if (fx >= Layout.LampLeft && fx < Layout.LampRight && fy >= Layout.LampTop && fy < Layout.LampBottom)
        {
            var border = 1.5 / canvas.Unit;
            var inner = fx >= Layout.LampLeft + border && fx < Layout.LampRight - border && fy >= Layout.LampTop + border && fy < Layout.LampBottom - border;
            colour = inner ? lamp : LampFrame;
        }
        else
        {
            colour = WallTop.Mix(WallLow, fy / Layout.WallBottom);
        }

        var factor = 1.0;
        foreach (var shadow in shadows)
        {
            factor *= shadow.Factor(fx, fy, t);
        }

        return factor < 1 ? colour.Scaled(factor) : colour;
    }
}
