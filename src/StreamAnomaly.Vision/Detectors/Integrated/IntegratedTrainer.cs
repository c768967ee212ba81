using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>Settings of the integrated CNN's three training stages.</summary>
/// <param name="AutoencoderEpochs">Stage 1: backbone + decoder on background-only frames.</param>
/// <param name="SegmentationEpochs">Stage 2: segmentation head on pseudo-labelled normal-object frames.</param>
/// <param name="RefitEpochs">Stage 3: decoder alone, backbone and segmentation head frozen.</param>
/// <param name="BatchSize">Frames per optimisation step.</param>
/// <param name="LearningRate">Adam learning rate of every stage (stage 2's first).</param>
/// <param name="SegmentationDecay">
/// Stage 2: the learning rate falls along a cosine from <paramref name="LearningRate"/> to this
/// fraction of it at the last step (1 = constant). YOLACT, whose head this is, ends its training at a
/// hundredth of its rate, and a head stopped at the full rate lands wherever its last batches left it.
/// </param>
/// <param name="PseudoLabelPercentile">
/// Pseudo-label threshold: this percentile of the background residual pixels, each divided by the
/// network's <see cref="IntegratedNetwork.ResidualScale"/>.
/// </param>
/// <param name="CopyPasteProbability">Stage 2: chance that a frame gets a pasted piece of a labelled object (<see cref="CopyPaste"/>; 0 = off).</param>
/// <param name="DecoyProbability">Stage 2: chance that a frame gets an unlabelled recoloured blob of scene content (<see cref="DecoyPaste"/>; 0 = off).</param>
/// <param name="SolidDecoys">Stage 2: share of the decoys that are solid-coloured random polygons (<see cref="DecoyPasteOptions.Solid"/>).</param>
/// <param name="ScalePixelPercentile">Residual scale: this percentile of each pixel's background residual (<see cref="NormalResidualScale"/>).</param>
/// <param name="ScaleFloorPercentile">Residual scale: at least this percentile of all background residual pixels pooled.</param>
/// <param name="Seed">Seeds initialisation, shuffling and augmentation.</param>
/// <param name="FreezeTrunk">Keep the ResNet at its initial (pretrained) weights in every stage; the pyramid and heads still train.</param>
public sealed record IntegratedTraining(
    int AutoencoderEpochs = 10,
    int SegmentationEpochs = 10,
    int RefitEpochs = 3,
    int BatchSize = 8,
    double LearningRate = 1e-3,
    double SegmentationDecay = 1,
    double PseudoLabelPercentile = 99.9,
    double CopyPasteProbability = 0.5,
    double DecoyProbability = 0,
    double SolidDecoys = 0,
    double ScalePixelPercentile = 99,
    double ScaleFloorPercentile = 90,
    int Seed = 0,
    bool FreezeTrunk = false);

/// <summary>What the trainer learnt besides the weights, for the bundle and the logs.</summary>
/// <param name="PseudoLabelThreshold">
/// Threshold of the trained network's scaled residual (<see cref="IntegratedTrainer.PseudoLabelResiduals"/>)
/// for pseudo-labelling more frames later; stage 2 used the same rule on the stage-1 decoder.
/// </param>
/// <param name="LabelledFrames">Normal-object frames that got at least one pseudo-label instance in stage 2.</param>
/// <param name="Instances">Pseudo-label instances in all.</param>
public sealed record IntegratedTrainingFacts(double PseudoLabelThreshold, int LabelledFrames, int Instances);

/// <summary>
/// Trains the integrated CNN in the paper's three stages: (1) backbone + decoder as an
/// autoencoder on background-only frames with colour jitter; (2) pseudo-label the frames that hold
/// normal objects from the stage-1 residual, scaled per pixel (<see cref="NormalResidualScale"/>,
/// <see cref="PseudoLabeler"/>), and train the segmentation head (and backbone) on them, with
/// pieces of labelled objects pasted elsewhere (<see cref="CopyPaste"/>), each batch turned by a
/// random <see cref="Dihedral"/> symmetry and colour-jittered; (3) stage 2 moved the backbone, so freeze backbone and
/// segmentation head and refit the decoder.
/// </summary>
public static class IntegratedTrainer
{
    /// <summary>Most background frames whose residuals fit the residual scale (a per-pixel percentile needs them all in memory).</summary>
    public const int ScaleSample = 1000;

    /// <summary>
    /// Trains a new network in three stages on <paramref name="background"/> and
    /// <paramref name="withObjects"/> frames (uint8 [N, 3, S, S], S = <see cref="IntegratedOptions.Size"/>)
    /// and returns the detector built on it with <paramref name="options"/>.
    /// </summary>
    public static (IntegratedDetector Detector, IntegratedTrainingFacts Facts) Train(Tensor background, Tensor withObjects, IntegratedOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var (network, facts) = Train(background, withObjects, options.ToNetwork(), options.ToTraining(context.Seed), context.Device, context.Progress, context.CancellationToken);
        return (new IntegratedDetector(network, options, context.Device), facts);
    }

    /// <summary>The three stages on a network of <paramref name="options"/>; returns the trained network (owned by the caller).</summary>
    public static (IntegratedNetwork Network, IntegratedTrainingFacts Facts) Train(
        Tensor background,
        Tensor withObjects,
        IntegratedNetworkOptions options,
        IntegratedTraining training,
        Device device,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(background);
        ArgumentNullException.ThrowIfNull(withObjects);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(training);
        if (background.shape[0] == 0 || withObjects.shape[0] == 0)
        {
            throw new ArgumentException("the integrated CNN needs background-only frames and frames with normal objects");
        }

        EnsureDecayFraction(training.SegmentationDecay);

        random.manual_seed(training.Seed);
        var network = new IntegratedNetwork(options);
        if (options.Depth == ResNet.ImageNet18)
        {
            using var pretrained = PretrainedResNet18.Load();
            network.InitialiseTrunk(pretrained);
        }

        network.to(device);
        using var generator = new Generator((ulong)training.Seed);
        try
        {
            Reconstruction(network, background, TrainingStage.Autoencoder, training.AutoencoderEpochs, "autoencoder", training, device, generator, progress, cancellationToken);
            var (targets, facts) = PseudoLabel(network, background, withObjects, training, device);
            Segmentation(network, withObjects, targets, training, device, generator, progress, cancellationToken, freezeBackbone: false);
            Reconstruction(network, background, TrainingStage.DecoderRefit, training.RefitEpochs, "decoder refit", training, device, generator, progress, cancellationToken);
            network.eval();
            var threshold = FitResidualScale(network, background, training, device);
            return (network, facts with { PseudoLabelThreshold = threshold });
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stage 2 on its own: trains the segmentation head on <paramref name="labels"/> (one per frame of
    /// <paramref name="frames"/>, uint8 [N, 3, H, W]; frames without instances are skipped), the backbone
    /// frozen when <paramref name="freezeBackbone"/> (then reconstruction is untouched). Used to compare
    /// label sources on one trained backbone (<c>eval-masks</c>).
    /// </summary>
    public static void TrainSegmentationHead(
        IntegratedNetwork network,
        Tensor frames,
        IReadOnlyList<SegmentationTargets> labels,
        IntegratedTraining training,
        Device device,
        bool freezeBackbone,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(training);
        if (labels.Count != frames.shape[0])
        {
            throw new ArgumentException($"{labels.Count} labels for {frames.shape[0]} frames", nameof(labels));
        }

        var targets = labels.Select((t, i) => ((long)i, t)).Where(p => p.t.Instances.Count > 0).ToList();
        if (targets.Count == 0)
        {
            throw new ArgumentException($"none of the {labels.Count} frames has a labelled instance to train the segmentation head on", nameof(labels));
        }

        using var generator = new Generator((ulong)training.Seed);
        Segmentation(network, frames, targets, training, device, generator, progress, cancellationToken, freezeBackbone);
    }

    /// <summary>
    /// The maps pseudo-labels are cut from: residuals of <paramref name="frames"/> (uint8 [N, 3, H, W])
    /// under the current decoder, divided by the network's <see cref="IntegratedNetwork.ResidualScale"/>.
    /// </summary>
    public static List<AnomalyMap> PseudoLabelResiduals(IntegratedNetwork network, Tensor frames, Device device, int batchSize = 16) =>
        Residuals(network, frames, device, scaled: true, batchSize);

    /// <summary>
    /// Fits the network's <see cref="IntegratedNetwork.ResidualScale"/> to the current decoder's
    /// residuals on (at most <see cref="ScaleSample"/>, evenly spaced) background-only frames and
    /// returns the pseudo-label threshold of the scaled residuals.
    /// </summary>
    private static double FitResidualScale(IntegratedNetwork network, Tensor background, IntegratedTraining training, Device device)
    {
        var count = background.shape[0];
        using var picks = linspace(0, count - 1, Math.Min(count, ScaleSample)).round().to_type(ScalarType.Int64);
        using var sample = background.index_select(0, picks);
        var raw = Residuals(network, sample, device, scaled: false);
        var scale = NormalResidualScale.FromNormalResiduals(raw, training.ScalePixelPercentile, training.ScaleFloorPercentile);
        network.SetResidualScale(scale);
        return PseudoLabelThreshold.FromNormalResiduals(raw.Select(m => NormalResidualScale.Normalise(m, scale)), training.PseudoLabelPercentile);
    }

    private static List<AnomalyMap> Residuals(IntegratedNetwork network, Tensor frames, Device device, bool scaled, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(frames);
        var (h, w) = (network.Options.InputHeight, network.Options.InputWidth);
        var maps = new List<AnomalyMap>((int)frames.shape[0]);
        network.eval();
        for (long start = 0; start < frames.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var batch = FrameTensors.ToUnitFloat(frames.narrow(0, start, Math.Min(batchSize, frames.shape[0] - start)), device);
            var residual = AutoencoderDetector.Residual(batch, network.Reconstruct(batch));
            if (scaled)
            {
                residual = residual / network.ResidualScale;
            }

            var values = residual.cpu().data<float>().ToArray();
            for (var i = 0; i < values.Length / (h * w); i++)
            {
                maps.Add(new AnomalyMap(w, h, values.AsSpan(i * h * w, h * w).ToArray()));
            }
        }

        return maps;
    }

    private static (List<(long Index, SegmentationTargets Targets)> Targets, IntegratedTrainingFacts Facts) PseudoLabel(
        IntegratedNetwork network, Tensor background, Tensor withObjects, IntegratedTraining training, Device device)
    {
        var threshold = FitResidualScale(network, background, training, device);
        var options = new PseudoLabelOptions(threshold);
        var targets = new List<(long, SegmentationTargets)>();
        var residuals = PseudoLabelResiduals(network, withObjects, device);
        for (var i = 0; i < residuals.Count; i++)
        {
            var labels = PseudoLabeler.Label(residuals[i], options);
            if (labels.Instances.Count > 0)
            {
                targets.Add((i, labels));
            }
        }

        if (targets.Count == 0)
        {
            throw new InvalidOperationException($"no pseudo-label instance found in {residuals.Count} normal-object frames at residual threshold {threshold:G4}");
        }

        return (targets, new IntegratedTrainingFacts(threshold, targets.Count, targets.Sum(t => t.Item2.Instances.Count)));
    }

    private static void Reconstruction(
        IntegratedNetwork network,
        Tensor frames,
        TrainingStage stage,
        int epochs,
        string name,
        IntegratedTraining training,
        Device device,
        Generator generator,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (epochs <= 0)
        {
            return;
        }

        network.train();
        network.ConfigureForStage(stage, freezeTrunk: training.FreezeTrunk);
        using var optimizer = optim.Adam(network.TrainableParameters(), training.LearningRate);
        MiniBatchLoop.Run(optimizer, frames.shape[0], training.BatchSize, epochs, name, generator, progress, cancellationToken, picks =>
        {
            var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(picks)), device);
            if (stage == TrainingStage.Autoencoder)
            {
                batch = ColourJitter.Apply(batch, generator, device);
            }

            return nn.functional.mse_loss(network.Reconstruct(batch), batch);
        });
    }

    private static void Segmentation(
        IntegratedNetwork network,
        Tensor frames,
        List<(long Index, SegmentationTargets Targets)> targets,
        IntegratedTraining training,
        Device device,
        Generator generator,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken,
        bool freezeBackbone)
    {
        if (training.SegmentationEpochs <= 0)
        {
            return;
        }

        network.train();
        network.ConfigureForStage(TrainingStage.Segmentation, freezeBackbone, training.FreezeTrunk);
        using var optimizer = optim.Adam(network.TrainableParameters(), training.LearningRate);
        var scheduler = CosineDecay(optimizer, MiniBatchLoop.StepsPerEpoch(targets.Count, training.BatchSize) * training.SegmentationEpochs, training.SegmentationDecay);
        using var cpuPriors = network.CreatePriors();
        using var priors = cpuPriors.to(device);
        var symmetries = Dihedral.Count(network.Options.InputWidth, network.Options.InputHeight);
        var copyPaste = new CopyPasteOptions(training.CopyPasteProbability);
        var decoys = new DecoyPasteOptions(training.DecoyProbability, Solid: training.SolidDecoys);
        var pieces = new Random(training.Seed);
        MiniBatchLoop.Run(optimizer, targets.Count, training.BatchSize, training.SegmentationEpochs, "segmentation", generator, progress, cancellationToken, picks =>
        {
            var chosen = picks.Select(i => targets[(int)i]).ToArray();
            var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(chosen.Select(c => c.Index).ToArray())), device);
            var (augmented, labels) = CopyPaste.Apply(batch, chosen.Select(c => c.Targets).ToArray(), pieces, copyPaste);
            if (decoys.Probability > 0)
            {
                augmented = DecoyPaste.Apply(augmented, labels, pieces, decoys);
            }

            var symmetry = (int)randint(0, symmetries, [1], generator: generator).item<long>();
            batch = ColourJitter.Apply(Dihedral.Apply(augmented, symmetry), generator, device);
            return SegmentationLoss.Compute(network.Segment(batch), priors, labels.Select(t => Dihedral.Apply(t, symmetry)).ToArray()).Total;
        }, scheduler);
    }

    /// <summary>
    /// A schedule that takes the optimiser's learning rate along a cosine to <paramref name="finalFraction"/>
    /// of it after <paramref name="steps"/> steps; none when the fraction is 1 (a constant rate).
    /// </summary>
    internal static optim.lr_scheduler.LRScheduler? CosineDecay(optim.Optimizer optimizer, long steps, double finalFraction)
    {
        EnsureDecayFraction(finalFraction);
        return finalFraction == 1 ? null : optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, optimizer.ParamGroups.First().LearningRate * finalFraction);
    }

    private static void EnsureDecayFraction(double fraction)
    {
        if (fraction is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the learning rate's final fraction must lie in (0, 1]");
        }
    }
}
