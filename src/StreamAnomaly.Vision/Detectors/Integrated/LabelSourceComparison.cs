using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>One way of labelling the segmentation head's training frames (a row of the paper's Table 3).</summary>
/// <param name="Name">Row name.</param>
/// <param name="Labels">The instances of each training frame, in frame order (frames without any are not trained on).</param>
/// <param name="FramesPerSecond">Labelling speed (residual + labelling), or null for ground truth drawn by people.</param>
public sealed record LabelSource(string Name, IReadOnlyList<SegmentationTargets> Labels, double? FramesPerSecond)
{
    /// <summary>Frames with at least one instance.</summary>
    public int LabelledFrames => Labels.Count(l => l.Instances.Count > 0);

    /// <summary>Instances over all frames.</summary>
    public int Instances => Labels.Sum(l => l.Instances.Count);
}

/// <summary>The mask AP of a segmentation head trained on one <see cref="LabelSource"/>.</summary>
public sealed record LabelSourceResult(LabelSource Source, MaskApReport Ap);

/// <summary>
/// The integrated-CNN paper's Table 3: the segmentation head trained on ground-truth masks against the
/// same head trained on each pseudo-label variant, scored by instance-mask AP on held-out frames with
/// ground truth. Every row starts from the same network (the trained backbone, pyramid and decoder, and a
/// segmentation head re-initialised with the same seed), so the labels are the only difference between rows.
/// </summary>
public static class LabelSourceComparison
{
    /// <summary>The paper's three pseudo-label variants, in its table's order.</summary>
    public static IReadOnlyList<(string Name, PseudoLabelVariant Variant)> PseudoLabelVariants { get; } =
    [
        ("pseudo-labels: no noise removal", PseudoLabelVariant.NoNoiseRemoval),
        ("pseudo-labels: noise removal before blobs", PseudoLabelVariant.NoiseRemovalBeforeBlobs),
        ("pseudo-labels: noise removal after blobs", PseudoLabelVariant.NoiseRemovalAfterBlobs),
    ];

    /// <summary>
    /// Ground-truth labels of frames from their object masks (any resolution; resized to
    /// <paramref name="width"/> x <paramref name="height"/>), one instance per connected component.
    /// </summary>
    public static LabelSource GroundTruth(IEnumerable<BinaryMask> masks, int width, int height) =>
        new("ground truth", masks.Select(m => PseudoLabeler.FromMask(m.Resized(width, height))).ToArray(), null);

    /// <summary>
    /// Pseudo-labels of <paramref name="frames"/> (uint8 [N, 3, H, W]) under each variant of
    /// <see cref="PseudoLabelVariants"/>, from the network's residual at <paramref name="threshold"/>.
    /// The residual is computed once and its time shared; each variant's speed is
    /// frames / (residual time + its own labelling time).
    /// </summary>
    public static IReadOnlyList<LabelSource> PseudoLabels(IntegratedNetwork network, Tensor frames, double threshold, Device device, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(time);
        var start = time.GetTimestamp();
        var residuals = IntegratedTrainer.PseudoLabelResiduals(network, frames, device);
        var residualSeconds = time.GetElapsedTime(start).TotalSeconds;
        return PseudoLabelVariants.Select(v =>
        {
            var options = new PseudoLabelOptions(threshold, Variant: v.Variant);
            var labelStart = time.GetTimestamp();
            var labels = residuals.Select(r => PseudoLabeler.Label(r, options)).ToArray();
            var seconds = residualSeconds + time.GetElapsedTime(labelStart).TotalSeconds;
            return new LabelSource(v.Name, labels, residuals.Count / Math.Max(seconds, 1e-9));
        }).ToArray();
    }

    /// <summary>
    /// One row per label source, each from the network's current weights: the segmentation head is
    /// re-initialised (seed <see cref="IntegratedTraining.Seed"/>) and trained on the source's labels for
    /// <see cref="IntegratedTraining.SegmentationEpochs"/> (the backbone with it, as in the paper's stage 2,
    /// unless <paramref name="freezeBackbone"/>), then scored on the evaluation frames. The network's
    /// weights are restored after every row, so no row sees another's training.
    /// </summary>
    public static IReadOnlyList<LabelSourceResult> Compare(
        IntegratedNetwork network,
        Tensor trainFrames,
        IReadOnlyList<LabelSource> sources,
        Tensor evalFrames,
        IReadOnlyList<IReadOnlyList<BinaryMask>> evalTruth,
        IntegratedTraining training,
        bool freezeBackbone,
        Device device,
        Func<LabelSource, IProgress<TrainingProgress>?>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(training);
        Dictionary<string, Tensor> snapshot;
        using (no_grad())
        {
            snapshot = network.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        }

        try
        {
            var rows = new List<LabelSourceResult>();
            foreach (var source in sources)
            {
                network.ResetSegmentationHead(training.Seed);
                IntegratedTrainer.TrainSegmentationHead(network, trainFrames, source.Labels, training, device, freezeBackbone, progress?.Invoke(source), cancellationToken);
                rows.Add(new LabelSourceResult(source, Score(network, evalFrames, evalTruth, device, batchSize: training.BatchSize)));
                using var noGrad = no_grad();
                foreach (var (name, value) in network.state_dict())
                {
                    value.copy_(snapshot[name]);
                }
            }

            return rows;
        }
        finally
        {
            foreach (var value in snapshot.Values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// How well <paramref name="labels"/> agree with <paramref name="truth"/>, frame by frame (same order and
    /// size), instance by instance at IoU &gt;= 0.5: what a segmentation head trained on them can learn at best.
    /// </summary>
    public static InstanceAgreement Agreement(IReadOnlyList<SegmentationTargets> labels, IReadOnlyList<SegmentationTargets> truth)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(truth);
        if (labels.Count != truth.Count)
        {
            throw new ArgumentException($"{labels.Count} labelled frames for {truth.Count} ground truths", nameof(labels));
        }

        var images = labels.Zip(truth, (l, t) => new ImageInstances(
            t.Instances.Select(i => i.Mask).ToArray(),
            l.Instances.Select(i => new PredictedInstance(i.Mask, 1)).ToArray())).ToArray();
        return MaskAveragePrecision.Agreement(images, 0.5);
    }

    /// <summary>
    /// Instance-mask AP (.50/.55/.60) of the network's normal-object detections on <paramref name="frames"/>
    /// (uint8 [N, 3, H, W]) against <paramref name="truth"/> (per frame, masks at the network's input size).
    /// </summary>
    public static MaskApReport Score(
        IntegratedNetwork network, Tensor frames, IReadOnlyList<IReadOnlyList<BinaryMask>> truth, Device device, PostprocessOptions? detection = null, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(truth);
        if (truth.Count != frames.shape[0])
        {
            throw new ArgumentException($"{truth.Count} ground truths for {frames.shape[0]} frames", nameof(truth));
        }

        var images = new List<ImageInstances>(truth.Count);
        for (long start = 0; start < frames.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = FrameTensors.ToUnitFloat(frames.narrow(0, start, Math.Min(batchSize, frames.shape[0] - start)), device);
            foreach (var detections in network.Detect(batch, detection))
            {
                images.Add(new ImageInstances(
                    truth[images.Count],
                    detections.Where(d => d.ClassIndex == PseudoLabeler.NormalObjectClass).Select(d => new PredictedInstance(d.Mask, d.Score)).ToArray()));
            }
        }

        return MaskAveragePrecision.Report(images);
    }
}
