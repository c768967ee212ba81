using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>
/// An axis-aligned box by its corners, x1 &lt;= x2 and y1 &lt;= y2. The unit is stated where the box
/// is used: relative coordinates in [0, 1] (targets, priors) or pixels (detections).
/// </summary>
public readonly record struct BoundingBox(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;

    public float Height => Y2 - Y1;
}

/// <summary>
/// Anchor (prior) settings. Every pyramid level P3..P7 has a nominal stride of 8, 16, 32, 64, 128
/// input pixels; at every location of a level there is one anchor per (stride multiple, aspect
/// ratio) pair, of side <c>multiple x stride</c> pixels (width / height = ratio, same area).
/// <para>Why stride multiples and not YOLACT's pixel scales at a reference size: YOLACT's scales
/// (24, 48, 96, 192, 384 at 550 px) are exactly 3 x the stride of their level, which is what lets an
/// object of the anchor's size find an anchor with IoU &gt;= 0.5 wherever it lies (the worst
/// offset, half a cell on both axes, still gives IoU 0.53). Shrinking those pixel scales with the
/// input (as YOLACT's 400 px configuration does) keeps the anchors' size relative to the image but
/// not relative to the grid: at 64 px the P3 anchors are 2.8 px on an 8 px grid and the P5 ones
/// 11 px on a 2 x 2 grid, so a 14 px object matched no prior at IoU 0.5 in 94 % of positions and its
/// only positive was a forced one, often on a coarse level at a fixed place in the image. Tied to
/// the stride, the anchors tile every level at any input size (3 x stride at 550 px gives YOLACT's
/// scales). The second multiple, 2 x stride, covers objects between 2 and 3 strides, the common size
/// at 64-128 px inputs; objects below about 2 x 8 = 16 px (the finest stride) can still be missed
/// at IoU 0.5 and then train through their forced best prior only.</para>
/// </summary>
public sealed record AnchorOptions
{
    /// <summary>Anchor sides in units of their level's stride (default 2 and 3; YOLACT: 3).</summary>
    public IReadOnlyList<double> StrideMultiples { get; init; } = [2, 3];

    /// <summary>Width / height of the anchors (YOLACT: 1, 1/2, 2).</summary>
    public IReadOnlyList<double> AspectRatios { get; init; } = [1, 0.5, 2];

    /// <summary>Anchors per location (A): stride multiples x aspect ratios.</summary>
    public int AnchorsPerLocation => StrideMultiples.Count * AspectRatios.Count;

    /// <summary>Throws <see cref="ArgumentException"/> unless there is at least one stride multiple and one aspect ratio, all positive and finite.</summary>
    public void Validate()
    {
        static bool Valid(IReadOnlyList<double> values) => values.Count > 0 && values.All(v => v > 0 && !double.IsInfinity(v));
        if (!Valid(StrideMultiples) || !Valid(AspectRatios))
        {
            throw new ArgumentException($"anchors need at least one stride multiple and one aspect ratio, all positive and finite (got multiples [{string.Join(", ", StrideMultiples)}], ratios [{string.Join(", ", AspectRatios)}])");
        }
    }
}

/// <summary>Anchor generation: pure functions of the pyramid geometry.</summary>
public static class PriorBoxes
{
    /// <summary>Nominal stride in input pixels of pyramid level <paramref name="level"/> (0 = P3): 8 x 2^level.</summary>
    public static int Stride(int level) => 8 << level;

    /// <summary>
    /// Grid sizes of P3..P7 for an input of <paramref name="inputHeight"/> x <paramref name="inputWidth"/>:
    /// every stride-2 layer (stem conv, max pool, stride-2 convs) maps a side s to ceil(s / 2).
    /// </summary>
    public static IReadOnlyList<(int Height, int Width)> LevelSizes(int inputHeight, int inputWidth, int levels = FeaturePyramid.Levels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        var sizes = new List<(int, int)>();
        int h = inputHeight, w = inputWidth;
        for (var i = 0; i < 3; i++)
        {
            (h, w) = ((h + 1) / 2, (w + 1) / 2);
        }

        for (var l = 0; l < levels; l++)
        {
            sizes.Add((h, w));
            (h, w) = ((h + 1) / 2, (w + 1) / 2);
        }

        return sizes;
    }

    /// <summary>
    /// Priors of an input size as rows of [cx, cy, w, h] in relative coordinates, in the order the
    /// prediction head emits them: level by level (P3..P7), then row y, column x, then stride
    /// multiple, then aspect ratio. Centre of cell (x, y) on a level of size (gh, gw) =
    /// ((x + 0.5) / gw, (y + 0.5) / gh); size for multiple m, stride s and aspect ratio r:
    /// w = m s sqrt(r) / inputWidth, h = m s / sqrt(r) / inputHeight.
    /// </summary>
    public static float[,] Generate(int inputHeight, int inputWidth, AnchorOptions anchors)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        anchors.Validate();

        var levelSizes = LevelSizes(inputHeight, inputWidth);
        var count = levelSizes.Sum(s => s.Height * s.Width) * anchors.AnchorsPerLocation;
        var priors = new float[count, 4];
        var row = 0;
        for (var l = 0; l < levelSizes.Count; l++)
        {
            var (gh, gw) = levelSizes[l];
            for (var y = 0; y < gh; y++)
            {
                for (var x = 0; x < gw; x++)
                {
                    foreach (var multiple in anchors.StrideMultiples)
                    {
                        var side = multiple * Stride(l);
                        foreach (var ratio in anchors.AspectRatios)
                        {
                            var r = Math.Sqrt(ratio);
                            priors[row, 0] = (float)((x + 0.5) / gw);
                            priors[row, 1] = (float)((y + 0.5) / gh);
                            priors[row, 2] = (float)(side * r / inputWidth);
                            priors[row, 3] = (float)(side / r / inputHeight);
                            row++;
                        }
                    }
                }
            }
        }

        return priors;
    }

    /// <summary>The priors of an input size as a [P, 4] float tensor ([cx, cy, w, h], relative).</summary>
    public static Tensor ForInput(int inputHeight, int inputWidth, AnchorOptions anchors) =>
        from_array(Generate(inputHeight, inputWidth, anchors));
}

/// <summary>Box arithmetic on tensors whose last dimension holds 4 coordinates.</summary>
public static class BoxCoding
{
    /// <summary>SSD's variances: 0.1 for the centre offsets, 0.2 for the log sizes.</summary>
    public static readonly (double Center, double Size) Variances = (0.1, 0.2);

    // Held constants (see HeldScalars).
    private static readonly Scalar CenterVariance = Variances.Center.ToScalar();
    private static readonly Scalar SizeVariance = Variances.Size.ToScalar();
    private static readonly Scalar TinySize = 1e-8.ToScalar();
    private static readonly Scalar TinyArea = 1e-12.ToScalar();

    /// <summary>[cx, cy, w, h] -> [x1, y1, x2, y2].</summary>
    public static Tensor PointForm(Tensor centerForm)
    {
        using var scope = NewDisposeScope();
        var center = centerForm[TensorIndex.Ellipsis, TensorIndex.Slice(0, 2)];
        var half = centerForm[TensorIndex.Ellipsis, TensorIndex.Slice(2, 4)].div(HeldScalars.Two);
        return cat([center - half, center.Plus(half)], -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// SSD encoding of matched boxes [.., 4] ([x1, y1, x2, y2]) against priors [.., 4]
    /// ([cx, cy, w, h]): ((c - c_p) / (0.1 w_p), log(w / w_p) / 0.2).
    /// </summary>
    public static Tensor Encode(Tensor matched, Tensor priors)
    {
        using var scope = NewDisposeScope();
        var lo = matched[TensorIndex.Ellipsis, TensorIndex.Slice(0, 2)];
        var hi = matched[TensorIndex.Ellipsis, TensorIndex.Slice(2, 4)];
        var priorCenter = priors[TensorIndex.Ellipsis, TensorIndex.Slice(0, 2)];
        var priorSize = priors[TensorIndex.Ellipsis, TensorIndex.Slice(2, 4)];
        var center = (lo.Plus(hi).div(HeldScalars.Two) - priorCenter) / priorSize.mul(CenterVariance);
        var size = ((hi - lo) / priorSize).clamp_min(TinySize).log().div(SizeVariance);
        return cat([center, size], -1).MoveToOuterDisposeScope();
    }

    /// <summary>Inverse of <see cref="Encode"/>: regressions [.., 4] + priors [.., 4] -> [x1, y1, x2, y2].</summary>
    public static Tensor Decode(Tensor regressions, Tensor priors)
    {
        using var scope = NewDisposeScope();
        var priorCenter = priors[TensorIndex.Ellipsis, TensorIndex.Slice(0, 2)];
        var priorSize = priors[TensorIndex.Ellipsis, TensorIndex.Slice(2, 4)];
        var center = priorCenter.Plus(regressions[TensorIndex.Ellipsis, TensorIndex.Slice(0, 2)].mul(CenterVariance) * priorSize);
        var size = priorSize * regressions[TensorIndex.Ellipsis, TensorIndex.Slice(2, 4)].mul(SizeVariance).exp();
        var half = size.div(HeldScalars.Two);
        return cat([center - half, center.Plus(half)], -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pairwise intersection over union of [.., A, 4] and [.., B, 4] point-form boxes -> [.., A, B]
    /// (leading dimensions broadcast, as for YOLACT's batched IoU in fast NMS).
    /// </summary>
    public static Tensor Iou(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        Tensor Col(Tensor t, int i, int axis) => t.select(-1, i).unsqueeze(axis);
        var ix1 = maximum(Col(a, 0, -1), Col(b, 0, -2));
        var iy1 = maximum(Col(a, 1, -1), Col(b, 1, -2));
        var ix2 = minimum(Col(a, 2, -1), Col(b, 2, -2));
        var iy2 = minimum(Col(a, 3, -1), Col(b, 3, -2));
        var inter = (ix2 - ix1).clamp_min(HeldScalars.Zero) * (iy2 - iy1).clamp_min(HeldScalars.Zero);
        var areaA = ((Col(a, 2, -1) - Col(a, 0, -1)) * (Col(a, 3, -1) - Col(a, 1, -1))).clamp_min(HeldScalars.Zero);
        var areaB = ((Col(b, 2, -2) - Col(b, 0, -2)) * (Col(b, 3, -2) - Col(b, 1, -2))).clamp_min(HeldScalars.Zero);
        return (inter / (areaA.Plus(areaB) - inter).clamp_min(TinyArea)).MoveToOuterDisposeScope();
    }
}
