using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Evaluation;

/// <summary>One predicted object instance: its pixel mask and the detector's confidence.</summary>
/// <param name="Mask">The predicted pixels; same size as the image's ground-truth masks.</param>
/// <param name="Score">Confidence, higher = more certain (any unit, compared only with other predictions); not NaN.</param>
public sealed record PredictedInstance(BinaryMask Mask, double Score);

/// <summary>
/// Ground truth and predictions of one image for instance-mask evaluation. All masks of one
/// image share the image's width and height.
/// </summary>
/// <param name="GroundTruth">The true object masks (may be empty: every prediction is then a false positive).</param>
/// <param name="Predictions">The predicted instances (may be empty: every ground truth is then missed).</param>
public sealed record ImageInstances(IReadOnlyList<BinaryMask> GroundTruth, IReadOnlyList<PredictedInstance> Predictions);

/// <summary>
/// Mask average precision at the three IoU thresholds the source paper reports. Each value is
/// in [0, 1], or NaN when there is no ground truth at all.
/// </summary>
/// <param name="Ap50">AP at IoU &gt;= 0.50.</param>
/// <param name="Ap55">AP at IoU &gt;= 0.55.</param>
/// <param name="Ap60">AP at IoU &gt;= 0.60.</param>
public sealed record MaskApReport(double Ap50, double Ap55, double Ap60);

/// <summary>
/// How well one set of instance masks (e.g. pseudo-labels) agrees with the ground truth, instance by
/// instance, with the matching of <see cref="MaskAveragePrecision.At"/>.
/// </summary>
/// <param name="TruePositives">Instances matched to a ground-truth object (IoU at or above the threshold).</param>
/// <param name="FalsePositives">Instances matched to none.</param>
/// <param name="FalseNegatives">Ground-truth objects no instance matched.</param>
/// <param name="MeanMatchedIoU">Mean IoU of the matched pairs (NaN without any).</param>
public sealed record InstanceAgreement(int TruePositives, int FalsePositives, int FalseNegatives, double MeanMatchedIoU)
{
    /// <summary>Matched share of the instances (NaN without any instance).</summary>
    public double Precision => (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>Matched share of the ground-truth objects (NaN without any object).</summary>
    public double Recall => (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>
/// COCO-style instance-mask average precision for a single class ("normal object"), following
/// pycocotools' <c>COCOeval</c> (without crowd regions, area ranges or the per-image cap of 100
/// detections).
/// </summary>
public static class MaskAveragePrecision
{
    /// <summary>Number of recall points of COCO's interpolated AP: 0, 0.01, ..., 1.</summary>
    private const int RecallPoints = 101;

    /// <summary>
    /// Average precision at one IoU threshold over a set of images, in [0, 1].
    /// <list type="number">
    /// <item>Per image, predictions are taken by score, highest first; each one is matched to the
    /// not-yet-matched ground truth with the highest IoU, provided that IoU is &gt;= the threshold
    /// (on an exact IoU tie the later ground truth wins, as in pycocotools). A matched prediction is a
    /// true positive; an unmatched one a false positive, so a second prediction on an
    /// already-matched object counts against precision.</item>
    /// <item>All predictions of all images are ranked by score, highest first (ties keep image order,
    /// then per-image order); precision and recall (over all ground-truth objects) are computed
    /// after each.</item>
    /// <item>Precision is made monotone: each value is replaced by the highest precision at any
    /// equal or higher recall (the envelope).</item>
    /// <item>The result is the mean, over the 101 recall levels 0, 0.01, ..., 1, of the enveloped
    /// precision at the first rank reaching that recall, or 0 when no rank reaches it.</item>
    /// </list>
    /// </summary>
    /// <param name="images">The evaluated images.</param>
    /// <param name="iouThreshold">Minimum IoU for a match, in (0, 1].</param>
    /// <returns>The AP, or <see cref="double.NaN"/> when no image has any ground truth.</returns>
    /// <exception cref="ArgumentException">On null entries, NaN scores or masks of different sizes within an image.</exception>
    public static double At(IReadOnlyList<ImageInstances> images, double iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (!(iouThreshold > 0 && iouThreshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "IoU threshold must lie in (0, 1]");
        }

        var groundTruthCount = 0;
        var detections = new List<(double Score, bool TruePositive)>();
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i] ?? throw new ArgumentException($"image {i} is null", nameof(images));
            Validate(image, i);
            groundTruthCount += image.GroundTruth.Count;
            detections.AddRange(MatchImage(image, iouThreshold).Select(static m => (m.Score, !double.IsNaN(m.MatchedIou))));
        }

        if (groundTruthCount == 0)
        {
            return double.NaN;
        }

        // OrderByDescending is a stable sort: tied scores keep image order, then per-image order.
        var ranked = detections.OrderByDescending(static d => d.Score).ToArray();
        var recall = new double[ranked.Length];
        var precision = new double[ranked.Length];
        var truePositives = 0;
        for (var k = 0; k < ranked.Length; k++)
        {
            if (ranked[k].TruePositive)
            {
                truePositives++;
            }

            recall[k] = (double)truePositives / groundTruthCount;
            precision[k] = (double)truePositives / (k + 1);
        }

        for (var k = ranked.Length - 1; k > 0; k--)
        {
            precision[k - 1] = Math.Max(precision[k - 1], precision[k]);
        }

        double sum = 0;
        var rank = 0;
        for (var r = 0; r < RecallPoints; r++)
        {
            // pycocotools' recall levels: np.linspace(0, 1, 101), i.e. r * 0.01 with the last exactly 1.
            var level = r == RecallPoints - 1 ? 1.0 : r * 0.01;
            while (rank < recall.Length && recall[rank] < level)
            {
                rank++;
            }

            if (rank == recall.Length)
            {
                break;
            }

            sum += precision[rank];
        }

        return sum / RecallPoints;
    }

    /// <summary>AP at IoU thresholds 0.50, 0.55 and 0.60, as reported by the source paper.</summary>
    /// <param name="images">The evaluated images (see <see cref="At"/>).</param>
    public static MaskApReport Report(IReadOnlyList<ImageInstances> images) =>
        new(At(images, 0.50), At(images, 0.55), At(images, 0.60));

    /// <summary>
    /// Instance-by-instance agreement at one IoU threshold: every image is matched as in <see cref="At"/>
    /// (predictions by score, each to the unmatched ground truth of highest IoU at or above the threshold).
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="At"/>.</exception>
    public static InstanceAgreement Agreement(IReadOnlyList<ImageInstances> images, double iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (!(iouThreshold > 0 && iouThreshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "IoU threshold must lie in (0, 1]");
        }

        var (groundTruthCount, predictions) = (0, 0);
        var matches = new List<double>();
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i] ?? throw new ArgumentException($"image {i} is null", nameof(images));
            Validate(image, i);
            groundTruthCount += image.GroundTruth.Count;
            predictions += image.Predictions.Count;
            matches.AddRange(MatchImage(image, iouThreshold).Select(static m => m.MatchedIou).Where(static iou => !double.IsNaN(iou)));
        }

        return new InstanceAgreement(matches.Count, predictions - matches.Count, groundTruthCount - matches.Count, matches.Count > 0 ? matches.Average() : double.NaN);
    }

    /// <summary>Matches one image (see <see cref="At"/>): each prediction, by score, with the IoU of its match (NaN when unmatched).</summary>
    private static List<(double Score, double MatchedIou)> MatchImage(ImageInstances image, double iouThreshold)
    {
        var results = new List<(double Score, double MatchedIou)>(image.Predictions.Count);
        var groundTruth = image.GroundTruth;
        var matched = new bool[groundTruth.Count];
        foreach (var prediction in image.Predictions.OrderByDescending(static p => p.Score))
        {
            var best = -1;
            var bestIou = iouThreshold;
            for (var g = 0; g < groundTruth.Count; g++)
            {
                if (matched[g])
                {
                    continue;
                }

                var iou = MaskMetrics.IoU(prediction.Mask, groundTruth[g]);
                if (iou >= bestIou)
                {
                    bestIou = iou;
                    best = g;
                }
            }

            if (best >= 0)
            {
                matched[best] = true;
            }

            results.Add((prediction.Score, best >= 0 ? bestIou : double.NaN));
        }

        return results;
    }

    private static void Validate(ImageInstances image, int index)
    {
        if (image.GroundTruth is null || image.Predictions is null)
        {
            throw new ArgumentException($"image {index} has a null ground-truth or prediction list", "images");
        }

        BinaryMask? first = null;
        for (var g = 0; g < image.GroundTruth.Count; g++)
        {
            var mask = image.GroundTruth[g] ?? throw new ArgumentException($"image {index}: ground truth {g} is null", "images");
            CheckSize(ref first, mask, index, $"ground truth {g}");
        }

        for (var p = 0; p < image.Predictions.Count; p++)
        {
            var prediction = image.Predictions[p];
            if (prediction?.Mask is null)
            {
                throw new ArgumentException($"image {index}: prediction {p} or its mask is null", "images");
            }

            if (double.IsNaN(prediction.Score))
            {
                throw new ArgumentException($"image {index}: prediction {p} has a NaN score", "images");
            }

            CheckSize(ref first, prediction.Mask, index, $"prediction {p}");
        }
    }

    private static void CheckSize(ref BinaryMask? first, BinaryMask mask, int index, string what)
    {
        if (first is null)
        {
            first = mask;
        }
        else if (mask.Width != first.Width || mask.Height != first.Height)
        {
            throw new ArgumentException(
                $"image {index}: {what} is {mask.Width}x{mask.Height} but the image's first mask is {first.Width}x{first.Height}",
                "images");
        }
    }
}
