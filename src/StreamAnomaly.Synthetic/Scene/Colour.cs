namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// A scene colour, 8-bit B, G, R. Every colour the scene draws lies in
/// [<see cref="Min"/>, <see cref="Max"/>] so that lighting drift (|offset| &lt;= 8) plus sensor noise
/// (|noise| &lt;= 10) never clips at 0 or 255.
/// </summary>
internal readonly record struct Colour(int B, int G, int R)
{
    public const int Min = 25;
    public const int Max = 215;

    /// <summary>Rounds and clamps each channel into [Min, Max].</summary>
    public static Colour Clamped(double b, double g, double r) => new(Clamp(b), Clamp(g), Clamp(r));

    /// <summary>This colour with every channel multiplied by <paramref name="factor"/> (then clamped).</summary>
    public Colour Scaled(double factor) => Clamped(B * factor, G * factor, R * factor);

    /// <summary>Linear blend: <paramref name="amount"/> 0 gives this colour, 1 gives <paramref name="other"/>.</summary>
    public Colour Mix(Colour other, double amount) =>
        Clamped(B + ((other.B - B) * amount), G + ((other.G - G) * amount), R + ((other.R - R) * amount));

    private static int Clamp(double v) => Math.Clamp((int)Math.Round(v), Min, Max);
}
