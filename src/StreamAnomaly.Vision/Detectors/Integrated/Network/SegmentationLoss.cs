using StreamAnomaly.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>One ground-truth instance: its box in relative coordinates [0, 1] and its mask (any resolution, the whole image).</summary>
public sealed record InstanceTarget(BoundingBox Box, BinaryMask Mask, int ClassIndex = 1);

/// <summary>The ground truth of one image: its instances (possibly none).</summary>
public sealed record SegmentationTargets(IReadOnlyList<InstanceTarget> Instances)
{
    public static SegmentationTargets None { get; } = new([]);
}

/// <summary>Matching and loss weights (YOLACT's defaults).</summary>
public sealed record SegmentationLossOptions
{
    /// <summary>A prior with IoU at or above this with its best ground truth is positive.</summary>
    public double PositiveIou { get; init; } = 0.5;

    /// <summary>A prior with IoU below this with every ground truth is negative (between: neutral, ignored).</summary>
    public double NegativeIou { get; init; } = 0.4;

    /// <summary>Hard negatives kept per positive (OHEM).</summary>
    public int NegativesPerPositive { get; init; } = 3;

    public double ClassWeight { get; init; } = 1.0;

    public double BoxWeight { get; init; } = 1.5;

    public double MaskWeight { get; init; } = 6.125;

    /// <summary>Positives per image whose masks are trained (a random subset beyond this; YOLACT: 100).</summary>
    public int MaxMasksPerImage { get; init; } = 100;

    /// <summary>Prototype pixels around the ground-truth box when cropping predicted masks.</summary>
    public double CropPadding { get; init; } = 1;
}

/// <summary>The loss terms (scalars, each already weighted and divided by the number of positives) and their sum.</summary>
public sealed record SegmentationLossResult(Tensor Total, Tensor Class, Tensor Box, Tensor Mask, long Positives) : IDisposable
{
    public void Dispose()
    {
        Total.Dispose();
        Class.Dispose();
        Box.Dispose();
        Mask.Dispose();
    }
}

/// <summary>
/// YOLACT's training loss. Matching: each prior takes its highest-IoU ground truth; IoU &gt;= 0.5
/// positive, &lt; 0.4 negative, otherwise neutral; each ground truth's best prior is forced
/// positive. Class: cross-entropy over positives and the hardest negatives (3 per positive, ranked
/// by background loss; an image without positives contributes no negatives, as in YOLACT). Box:
/// smooth-L1 on positives against SSD-encoded targets. Mask: binary cross-entropy between
/// sigmoid(prototypes x coefficients) cropped to the ground-truth box and the ground-truth mask
/// downsampled to prototype resolution, each summed over pixels and divided by its box area in
/// prototype pixels. All three are divided by the number of positives in the batch (at least 1).
/// </summary>
public static class SegmentationLoss
{
    /// <summary>Per-image matching result: class targets [P] (-1 neutral, 0 background, c class), box targets [P, 4], matched truth index [P].</summary>
    public static (Tensor Classes, Tensor Boxes, Tensor TruthIndex) Match(Tensor truths, Tensor labels, Tensor priors, double positiveIou = 0.5, double negativeIou = 0.4)
    {
        using var scope = NewDisposeScope();
        var count = priors.shape[0];
        if (truths.shape[0] == 0)
        {
            return (zeros(count, dtype: ScalarType.Int64, device: priors.device).MoveToOuterDisposeScope(),
                zeros(count, 4, device: priors.device).MoveToOuterDisposeScope(),
                zeros(count, dtype: ScalarType.Int64, device: priors.device).MoveToOuterDisposeScope());
        }

        var overlaps = BoxCoding.Iou(truths, BoxCoding.PointForm(priors));
        var (bestOverlap, bestTruth) = overlaps.max(0);
        bestOverlap = bestOverlap.clone();
        bestTruth = bestTruth.clone();
        var bestPrior = overlaps.argmax(1).cpu().data<long>().ToArray();
        for (var g = 0; g < bestPrior.Length; g++)
        {
            using var at = tensor(new[] { bestPrior[g] }, device: priors.device);
            using var forced = 2.0.ToScalar();
            using var truth = g.ToScalar();
            bestOverlap.index_fill_(0, at, forced);
            bestTruth.index_fill_(0, at, truth);
        }

        var classes = labels.index_select(0, bestTruth).clone();
        using var positiveBound = positiveIou.ToScalar();
        using var negativeBound = negativeIou.ToScalar();
        using var neutral = (-1).ToScalar();
        classes.masked_fill_(bestOverlap.lt(positiveBound), neutral);
        classes.masked_fill_(bestOverlap.lt(negativeBound), HeldScalars.Zero);
        var boxes = BoxCoding.Encode(truths.index_select(0, bestTruth), priors);
        return (classes.MoveToOuterDisposeScope(), boxes.MoveToOuterDisposeScope(), bestTruth.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The loss of a batch's <paramref name="output"/> against one <see cref="SegmentationTargets"/>
    /// per image. <paramref name="priors"/> [P, 4] as from <see cref="PriorBoxes.ForInput"/>.
    /// </summary>
    public static SegmentationLossResult Compute(SegmentationOutput output, Tensor priors, IReadOnlyList<SegmentationTargets> targets, SegmentationLossOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(priors);
        ArgumentNullException.ThrowIfNull(targets);
        options ??= new SegmentationLossOptions();
        var n = output.ClassLogits.shape[0];
        if (targets.Count != n)
        {
            throw new ArgumentException($"a batch of {n} images needs {n} targets, got {targets.Count}", nameof(targets));
        }

        using var scope = NewDisposeScope();
        var device = output.ClassLogits.device;
        var (k, ph, pw) = (output.Prototypes.shape[1], output.Prototypes.shape[2], output.Prototypes.shape[3]);
        using var width = pw.ToScalar();
        using var height = ph.ToScalar();
        var classTargets = new List<Tensor>();
        var boxTargets = new List<Tensor>();
        var truthIndices = new List<Tensor>();
        var truthBoxes = new List<Tensor>();
        var truthMasks = new List<Tensor>();
        using (no_grad())
        {
            foreach (var image in targets)
            {
                var (truths, labels, masks) = ToTensors(image, ph, pw, device);
                var (matchedClasses, matchedBoxes, matchedTruths) = Match(truths, labels, priors, options.PositiveIou, options.NegativeIou);
                classTargets.Add(matchedClasses);
                boxTargets.Add(matchedBoxes);
                truthIndices.Add(matchedTruths);
                truthBoxes.Add(truths);
                truthMasks.Add(masks);
            }
        }

        var classT = stack(classTargets);
        var positive = classT.gt(HeldScalars.Zero);
        var positivesPerImage = positive.sum(1);
        var totalPositives = positivesPerImage.sum().item<long>();
        var normaliser = Math.Max(1, totalPositives);

        // Class loss with online hard-negative mining.
        Tensor negative;
        using (no_grad())
        {
            var background = output.ClassLogits.logsumexp(-1) - output.ClassLogits[TensorIndex.Ellipsis, 0];
            background = background.masked_fill(classT.ne(HeldScalars.Zero), HeldScalars.Zero);
            var (_, order) = background.sort(1, descending: true);
            var (_, rank) = order.sort(1);
            using var perPositive = options.NegativesPerPositive.ToScalar();
            using var most = (classT.shape[1] - 1).ToScalar();
            var negatives = positivesPerImage.mul(perPositive).clamp_max(most).unsqueeze(1);
            negative = rank.lt(negatives) & classT.eq(HeldScalars.Zero);
        }

        var chosen = (positive | negative).nonzero().T;
        var classLoss = functional.cross_entropy(
            output.ClassLogits[chosen[0], chosen[1]],
            classT[chosen[0], chosen[1]],
            reduction: Reduction.Sum);

        var positiveIndex = positive.nonzero().T;
        var boxLoss = functional.smooth_l1_loss(
            output.BoxRegressions[positiveIndex[0], positiveIndex[1]],
            stack(boxTargets)[positiveIndex[0], positiveIndex[1]],
            reduction: Reduction.Sum);

        var maskLoss = zeros(1, device: device).sum();
        for (var i = 0; i < n; i++)
        {
            var priorsOfImage = positive[i].nonzero().view(-1);
            if (priorsOfImage.shape[0] == 0)
            {
                continue;
            }

            if (priorsOfImage.shape[0] > options.MaxMasksPerImage)
            {
                priorsOfImage = priorsOfImage.index_select(0, randperm(priorsOfImage.shape[0], device: device)[TensorIndex.Slice(0, options.MaxMasksPerImage)]);
            }

            var truth = truthIndices[i].index_select(0, priorsOfImage);
            var boxes = truthBoxes[i].index_select(0, truth);
            var predicted = SegmentationPostprocessor.AssembleMasks(
                output.Prototypes[i], output.MaskCoefficients[i].index_select(0, priorsOfImage), boxes, options.CropPadding);
            var expected = truthMasks[i].index_select(0, truth);
            var perPixel = functional.binary_cross_entropy(predicted.clamp(HeldScalars.Zero, HeldScalars.One), expected, reduction: Reduction.None);
            var area = ((boxes[TensorIndex.Colon, 2] - boxes[TensorIndex.Colon, 0]).mul(width) * (boxes[TensorIndex.Colon, 3] - boxes[TensorIndex.Colon, 1]).mul(height)).clamp_min(HeldScalars.One);
            maskLoss = maskLoss.Plus((perPixel.sum([1, 2]) / area).sum());
        }

        using var classWeight = (options.ClassWeight / normaliser).ToScalar();
        using var boxWeight = (options.BoxWeight / normaliser).ToScalar();
        using var maskWeight = (options.MaskWeight / normaliser).ToScalar();
        var c = classLoss.mul(classWeight);
        var b = boxLoss.mul(boxWeight);
        var m = maskLoss.mul(maskWeight);
        var total = c.Plus(b).Plus(m);
        return new SegmentationLossResult(
            total.MoveToOuterDisposeScope(), c.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), m.MoveToOuterDisposeScope(), totalPositives);
    }

    /// <summary>Boxes [G, 4], labels [G], masks [G, h, w] (0/1 floats at prototype resolution).</summary>
    private static (Tensor Boxes, Tensor Labels, Tensor Masks) ToTensors(SegmentationTargets image, long h, long w, Device device)
    {
        var instances = image.Instances;
        if (instances.Count == 0)
        {
            return (zeros(0, 4, device: device), zeros(0, dtype: ScalarType.Int64, device: device), zeros(0, h, w, device: device));
        }

        var boxes = tensor(instances.SelectMany(t => new[] { t.Box.X1, t.Box.Y1, t.Box.X2, t.Box.Y2 }).ToArray(), [instances.Count, 4], device: device);
        var labels = tensor(instances.Select(t => (long)t.ClassIndex).ToArray(), device: device);
        var masks = stack(instances.Select(t =>
        {
            var full = tensor(t.Mask.Data.Select(v => v ? 1f : 0f).ToArray(), [1, 1, t.Mask.Height, t.Mask.Width], device: device);
            return functional.interpolate(full, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false).view(h, w);
        })).ge(HeldScalars.Half).to_type(ScalarType.Float32);
        return (boxes, labels, masks);
    }
}
