using StreamAnomaly.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>Inference settings (YOLACT's defaults).</summary>
public sealed record PostprocessOptions
{
    /// <summary>Minimum softmax score of a class for a detection.</summary>
    public double ScoreThreshold { get; init; } = 0.05;

    /// <summary>Fast NMS drops a box whose IoU with a higher-scoring box of its class reaches this.</summary>
    public double NmsIouThreshold { get; init; } = 0.5;

    /// <summary>Highest-scoring candidates per class that enter fast NMS.</summary>
    public int TopKBeforeNms { get; init; } = 200;

    /// <summary>Detections kept per image (highest scores).</summary>
    public int MaxDetections { get; init; } = 100;

    /// <summary>Prototype pixels added around a box before cropping its mask (YOLACT: 1).</summary>
    public double CropPadding { get; init; } = 1;

    /// <summary>Mask probability at or above which a pixel is inside the instance.</summary>
    public double MaskThreshold { get; init; } = 0.5;
}

/// <summary>
/// One instance found in an image: <see cref="Box"/> in pixels of the network input, its class
/// score, its class (1..C-1; 1 = normal object), and its mask at the input size.
/// </summary>
public sealed record SegmentationDetection(BoundingBox Box, float Score, int ClassIndex, BinaryMask Mask);

/// <summary>
/// YOLACT's inference path: decode boxes, per-class score threshold, fast NMS, top-k, then masks =
/// sigmoid(prototypes x coefficients^T) cropped to their boxes, upsampled to the input size and
/// binarised.
/// </summary>
public static class SegmentationPostprocessor
{
    /// <summary>
    /// Detections per image of a batch. <paramref name="priors"/> [P, 4] must be the priors the
    /// outputs were made for (<see cref="PriorBoxes.ForInput"/>). Leaves no tensor behind.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<SegmentationDetection>> Process(
        SegmentationOutput output, Tensor priors, int inputHeight, int inputWidth, PostprocessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(priors);
        options ??= new PostprocessOptions();
        if (output.ClassLogits.shape[1] != priors.shape[0])
        {
            throw new ArgumentException($"the outputs hold {output.ClassLogits.shape[1]} priors but {priors.shape[0]} were given", nameof(priors));
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // Held Scalars (see HeldScalars): this runs for every frame a worker scores.
        using var scoreThreshold = options.ScoreThreshold.ToScalar();
        using var maskThreshold = options.MaskThreshold.ToScalar();
        var results = new List<IReadOnlyList<SegmentationDetection>>();
        var classes = output.ClassLogits.shape[2];
        for (long i = 0; i < output.ClassLogits.shape[0]; i++)
        {
            using var imageScope = NewDisposeScope();
            var scores = output.ClassLogits[i].softmax(-1);
            var boxes = BoxCoding.Decode(output.BoxRegressions[i], priors);
            var picked = new List<(long Prior, float Score, int Class)>();
            for (var c = 1; c < classes; c++)
            {
                var classScores = scores[TensorIndex.Colon, c];
                var candidates = classScores.gt(scoreThreshold).nonzero().view(-1);
                if (candidates.shape[0] == 0)
                {
                    continue;
                }

                var candidateScores = classScores.index_select(0, candidates);
                var keep = FastNms(boxes.index_select(0, candidates), candidateScores, options.NmsIouThreshold, options.TopKBeforeNms);
                var priorsKept = candidates.index_select(0, keep).cpu().data<long>().ToArray();
                var scoresKept = candidateScores.index_select(0, keep).cpu().data<float>().ToArray();
                picked.AddRange(priorsKept.Select((p, j) => (p, scoresKept[j], c)));
            }

            var top = picked.OrderByDescending(p => p.Score).Take(options.MaxDetections).ToArray();
            if (top.Length == 0)
            {
                results.Add([]);
                continue;
            }

            var index = tensor(top.Select(p => p.Prior).ToArray(), device: boxes.device);
            var keptBoxes = boxes.index_select(0, index).clamp(HeldScalars.Zero, HeldScalars.One);
            var masks = AssembleMasks(output.Prototypes[i], output.MaskCoefficients[i].index_select(0, index), keptBoxes, options.CropPadding);
            var full = functional.interpolate(masks.unsqueeze(0), size: [inputHeight, inputWidth], mode: InterpolationMode.Bilinear, align_corners: false)[0];
            var binary = full.ge(maskThreshold).contiguous();
            var boxValues = keptBoxes.cpu().contiguous().data<float>().ToArray();
            var maskValues = binary.cpu().data<bool>().ToArray();
            var pixels = inputHeight * inputWidth;
            results.Add([.. top.Select((p, j) => new SegmentationDetection(
                new BoundingBox(boxValues[4 * j] * inputWidth, boxValues[(4 * j) + 1] * inputHeight, boxValues[(4 * j) + 2] * inputWidth, boxValues[(4 * j) + 3] * inputHeight),
                p.Score,
                p.Class,
                new BinaryMask(inputWidth, inputHeight, maskValues.AsSpan(j * pixels, pixels).ToArray())))]);
        }

        return results;
    }

    /// <summary>
    /// YOLACT's fast NMS for one class: sort by score (descending), keep the first
    /// <paramref name="topK"/>, IoU matrix, keep its strict upper triangle, and keep each box whose
    /// largest IoU with any higher-scoring box is below <paramref name="iouThreshold"/>. Unlike
    /// greedy NMS a box removed by a higher one can still remove a lower one.
    /// Returns indices into <paramref name="boxes"/> [n, 4] (point form), highest score first.
    /// </summary>
    public static Tensor FastNms(Tensor boxes, Tensor scores, double iouThreshold, int topK = 200)
    {
        using var scope = NewDisposeScope();
        var (_, order) = scores.sort(0, descending: true);
        order = order[TensorIndex.Slice(0, topK)];
        var sorted = boxes.index_select(0, order);
        var iou = BoxCoding.Iou(sorted, sorted).triu(1);
        var (maxIou, _) = iou.max(0);
        using var bound = iouThreshold.ToScalar();
        return order.masked_select(maxIou.lt(bound)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Instance masks from prototypes [k, h, w] and coefficients [n, k]: sigmoid(coefficients x
    /// prototypes) -> [n, h, w], each cropped (zeroed outside) to its relative box [n, 4].
    /// </summary>
    public static Tensor AssembleMasks(Tensor prototypes, Tensor coefficients, Tensor boxes, double padding = 1)
    {
        using var scope = NewDisposeScope();
        var (k, h, w) = (prototypes.shape[0], prototypes.shape[1], prototypes.shape[2]);
        var masks = coefficients.matmul(prototypes.reshape(k, h * w)).view(-1, h, w).sigmoid();
        return Crop(masks, boxes, padding).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Zeroes each mask [n, h, w] outside its relative box [n, 4], widened by <paramref name="padding"/>
    /// pixels and clipped to the mask: pixel column x is kept when its centre lies in the box,
    /// x1*w - pad &lt;= x + 0.5 &lt; x2*w + pad (likewise rows). YOLACT compares the index x itself;
    /// the centre makes a box edge on a pixel boundary (0.25 * 16 = 4, or 4.0000005 after decoding)
    /// keep that pixel either way.
    /// </summary>
    public static Tensor Crop(Tensor masks, Tensor boxes, double padding = 1)
    {
        // The crop windows are computed in C# and applied as one 0/1 tensor: TorchSharp 0.107
        // frees implicitly converted Scalars on the finalizer thread, which raced the native
        // calls of a tensor-arithmetic version of this function (a sporadic "toFloat" error).
        using var scope = NewDisposeScope();
        var (n, h, w) = (masks.shape[0], masks.shape[1], masks.shape[2]);
        var corners = boxes.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var keep = new float[n * h * w];
        for (var i = 0; i < n; i++)
        {
            var (x1, x2) = Window(corners[(i * 4) + 0], corners[(i * 4) + 2], w);
            var (y1, y2) = Window(corners[(i * 4) + 1], corners[(i * 4) + 3], h);
            for (var y = y1; y < y2; y++)
            {
                Array.Fill(keep, 1f, (int)((i * h * w) + (y * w) + x1), x2 - x1);
            }
        }

        var inside = tensor(keep, [n, h, w]).to(masks.device).to_type(masks.dtype);
        return (masks * inside).MoveToOuterDisposeScope();

        // First and one-past-last pixel whose centre c + 0.5 lies in [lo * size - pad, hi * size + pad).
        (int From, int To) Window(float a, float b, long size)
        {
            var lo = (Math.Min(a, b) * size) - padding;
            var hi = (Math.Max(a, b) * size) + padding;
            var from = (int)Math.Clamp(Math.Ceiling(lo - 0.5), 0, size);
            var to = (int)Math.Clamp(Math.Ceiling(hi - 0.5), 0, size);
            return (from, Math.Max(from, to));
        }
    }
}
