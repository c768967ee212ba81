using OpenCvSharp;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>The four seed-000 test categories (paper 1, section 3.2).</summary>
public enum PatchCategory
{
    /// <summary>A normal frame, nothing pasted (label 0).</summary>
    Background,

    /// <summary>A hand patch pasted (label 0).</summary>
    NormalObject,

    /// <summary>A foreign-object patch pasted (label 1).</summary>
    AbnormalObject,

    /// <summary>A hand patch and a foreign-object patch pasted (label 1).</summary>
    NormalAndAbnormal,
}

/// <summary>
/// Seed-000 test frames: normal background frames (no people, no hands) with a normal-object patch (a hand with a short sleeve) and/or an abnormal-object patch
/// (a foreign object) pasted at seeded random positions, rotations and sizes, the abnormal one on
/// top. Masks are exact: <c>normal-object</c> = visible hand-patch pixels, <c>anomaly</c> = pixels
/// that differ from the frame without the abnormal patch. The frames of one category are consecutive
/// footage (frame i shows the scene <c>i / fps</c> seconds after a seeded start), so detectors that
/// follow the machine over time see it run its normal cycle; the patches are placed afresh in every
/// frame. Frame i depends only on (seed, fps, i, category).
/// </summary>
public sealed class PatchPaster
{
    /// <summary>Latest start of a category's footage, seconds into the scene.</summary>
    private const double LatestStart = 240;

    private readonly int _seed;
    private readonly double _fps;
    private readonly RobotCellScene _scene;

    /// <param name="seed">Seeds the scene, each category's start and the patches.</param>
    /// <param name="fps">Frames per second of the footage (&gt; 0).</param>
    public PatchPaster(int seed, double fps = 5)
    {
        if (!(fps > 0) || !double.IsFinite(fps))
        {
            throw new ArgumentOutOfRangeException(nameof(fps), fps, "frames per second must be positive and finite");
        }

        _seed = seed;
        _fps = fps;
        _scene = new RobotCellScene(seed, SceneOptions.Background);
    }

    /// <summary>Kebab-case category name, e.g. "normal+abnormal".</summary>
    public static string NameOf(PatchCategory category) => category switch
    {
        PatchCategory.Background => "background",
        PatchCategory.NormalObject => "normal-object",
        PatchCategory.AbnormalObject => "abnormal-object",
        PatchCategory.NormalAndAbnormal => "normal+abnormal",
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, "unknown category"),
    };

    /// <summary>
    /// Renders frame <paramref name="index"/> of <paramref name="category"/>. The two flags switch a
    /// patch off (for the exactness tests) without changing anything else.
    /// </summary>
    public SceneFrame Render(PatchCategory category, int index, int width, int height, bool withHand = true, bool withAbnormal = true)
    {
        var start = SeedMix.Random(_seed, SeedMix.Stream.Patches, ((long)category << 32) | uint.MaxValue).Uniform(0, LatestStart);
        var t = start + (index / _fps);
        var random = SeedMix.Random(_seed, SeedMix.Stream.Patches, ((long)category << 32) | (uint)index);
        var hasHand = category is PatchCategory.NormalObject or PatchCategory.NormalAndAbnormal;
        var hasAbnormal = category is PatchCategory.AbnormalObject or PatchCategory.NormalAndAbnormal;
        var hand = (Look: HandLook.Random(random), X: random.Uniform(0.2, 0.8), Y: random.Uniform(0.2, 0.8), Angle: random.Uniform(0, 2 * Math.PI));
        var foreign = ForeignObject.Random(random, random.Uniform(0.2, 0.8), random.Uniform(0.2, 0.8), 1.0);

        void Paste(Canvas canvas, bool abnormal)
        {
            if (hasHand && withHand)
            {
                var direction = new Point2d(Math.Cos(hand.Angle), Math.Sin(hand.Angle));
                hand.Look.Draw(canvas, canvas.At(hand.X, hand.Y), direction, 0.06 * canvas.Unit);
            }

            if (hasAbnormal && abnormal)
            {
                foreign.Draw(canvas);
            }
        }

        using var canvas = _scene.RenderCanvas(t, width, height, c => Paste(c, withAbnormal));
        using var normal = _scene.RenderCanvas(t, width, height, c => Paste(c, abnormal: false));
        return new SceneFrame(_scene.Finish(canvas, t), canvas.MaskOf(Layer.Hand), canvas.MaskOf(Layer.Person), canvas.DiffersFrom(normal));
    }
}
