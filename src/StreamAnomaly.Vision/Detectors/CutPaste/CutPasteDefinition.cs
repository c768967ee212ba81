using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.CutPaste;

/// <summary>
/// CutPaste's catalog entry. Fitting: each usable frame, its CutPaste copies and its scar copies
/// go once through the frozen backbone (the augmentations are drawn once, seeded); the head is
/// trained on those pooled features to tell the three classes apart (cross-entropy, Adam); the
/// Gaussian is then fitted to the head's embeddings of the unaltered frames.
/// </summary>
public sealed class CutPasteDefinition : DetectorDefinition<CutPasteOptions>
{
    public override string Name => CutPasteDetector.Name;

    public override string Summary => "CutPaste (Li et al. 2021): a head on the frozen pretrained ResNet-18 trained to tell normal frames from CutPaste and scar copies of themselves; score = Mahalanobis distance of the embedding to the normal frames' Gaussian (whole-frame, no map)";

    public override DetectorOptions Quick => new CutPasteOptions { Size = 64, Hidden = 64, Embedding = 16, Epochs = 20, Batch = 32 };

    protected override FittedDetector Fit(CutPasteOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        var backbone = PretrainedResNet18.Load();
        try
        {
            backbone.to(context.Device);
            backbone.eval();
            var (model, facts) = Train(backbone, options, frames.Frames(clips), frames.ToString(), context);
            facts["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
            return new FittedDetector(new CutPasteDetector(backbone, model, options, context.Device), facts);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    protected override IBundledDetector Load(CutPasteOptions options, byte[] weights, JsonObject? state, string path, Device device) =>
        CutPasteDetector.Load(options, weights, path, device);

    /// <summary>
    /// Trains the head and fits the Gaussian on <paramref name="frames"/>; returns the model (the
    /// caller owns it) and facts about the fit. <paramref name="trainHead"/> false keeps the head's
    /// seeded initial weights (the same pipeline untrained, for comparisons).
    /// </summary>
    internal static (CutPasteModel Model, Dictionary<string, string> Facts) Train(PretrainedResNet18 backbone, CutPasteOptions options, IEnumerable<Frame> frames, string what, FitContext context, bool trainHead = true)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        var (features, labels) = AugmentedFeatures(backbone, options, frames, context);
        using var featuresOwner = features;
        using var labelsOwner = labels;
        using var normal = labels.eq((long)CutPasteClass.Normal).nonzero().squeeze(1);
        if (normal.shape[0] < 2)
        {
            throw new ArgumentException($"cutpaste needs two or more {what} frames, got {normal.shape[0]}");
        }

        random.manual_seed(context.Seed);
        var head = new CutPasteHead(features.shape[1], options.Hidden, options.Embedding);
        try
        {
            head.to(context.Device);
            var loss = trainHead ? TrainHead(head, features, labels, options, context) : double.NaN;
            head.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var embeddings = head.Embed(features.index_select(0, normal));
            var accuracy = head.call(features).argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
            var (density, shrinkage) = GaussianDensity.Fit(embeddings, options.LedoitWolf ? null : options.Shrinkage);
            var facts = new Dictionary<string, string>
            {
                ["trainFrames"] = normal.shape[0].ToString(CultureInfo.InvariantCulture),
                ["augmentedFrames"] = (features.shape[0] - normal.shape[0]).ToString(CultureInfo.InvariantCulture),
                ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
                ["finalLoss"] = loss.ToString("R", CultureInfo.InvariantCulture),
                ["trainAccuracy"] = accuracy.ToString("F4", CultureInfo.InvariantCulture),
                ["shrinkage"] = shrinkage.ToString("R", CultureInfo.InvariantCulture),
            };
            return (new CutPasteModel(head, density), facts);
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    /// <summary>Pooled backbone features [M, 512] of every frame and its augmented copies, with their classes [M] (int64), on the context's device.</summary>
    private static (Tensor Features, Tensor Labels) AugmentedFeatures(PretrainedResNet18 backbone, CutPasteOptions options, IEnumerable<Frame> frames, FitContext context)
    {
        using var scope = NewDisposeScope();
        var random = new Random(context.Seed);
        var size = options.Size;
        var chunks = new List<Tensor>();
        var labels = new List<long>();
        foreach (var batch in frames.Chunk(CutPasteDetector.BatchSize))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var images = new List<byte[]>();
            foreach (var frame in batch)
            {
                var bgr = FrameTensors.ResizeBgr(frame, size, size);
                images.Add(bgr);
                labels.Add((long)CutPasteClass.Normal);
                for (var copy = 0; copy < options.Copies; copy++)
                {
                    foreach (var kind in (CutPasteClass[])[CutPasteClass.CutPaste, CutPasteClass.Scar])
                    {
                        images.Add(CutPasteAugment.Apply(bgr, size, CutPasteAugment.Draw(kind, size, random, options.ColourJitter)));
                        labels.Add((long)kind);
                    }
                }
            }

            foreach (var group in images.Chunk(CutPasteDetector.BatchSize))
            {
                using var inner = NewDisposeScope();
                var input = backbone.Preprocessing.Apply(CutPasteDetector.Planar(group, size).to(context.Device));
                chunks.Add(backbone.Features(input, PretrainedStage.Pooled)[0].MoveToOuterDisposeScope());
            }
        }

        if (chunks.Count == 0)
        {
            return (zeros(0, PretrainedResNet18.Channels(PretrainedStage.Pooled), device: context.Device).MoveToOuterDisposeScope(), zeros(0, dtype: ScalarType.Int64, device: context.Device).MoveToOuterDisposeScope());
        }

        return (cat(chunks, 0).MoveToOuterDisposeScope(), tensor(labels.ToArray(), device: context.Device).MoveToOuterDisposeScope());
    }

    /// <summary>Cross-entropy training of the head on fixed features; the normal class weighs <see cref="CutPasteOptions.Copies"/> (as many normal samples as of each defect). Returns the last epoch's mean loss.</summary>
    private static double TrainHead(CutPasteHead head, Tensor features, Tensor labels, CutPasteOptions options, FitContext context)
    {
        using var shuffle = new Generator((ulong)context.Seed);
        using var optimizer = optim.Adam(head.parameters(), options.LearningRate);
        using var classWeights = tensor(new float[] { options.Copies, 1, 1 }, device: context.Device);
        head.train();
        return MiniBatchLoop.Run(optimizer, features.shape[0], options.Batch, options.Epochs, CutPasteDetector.Name, shuffle, context.Progress, context.CancellationToken, picks =>
        {
            // Batch norm cannot train on a single sample: a last batch of one counts it twice.
            var index = tensor(picks.Length == 1 ? [picks[0], picks[0]] : picks, device: context.Device);
            return functional.cross_entropy(head.call(features.index_select(0, index)), labels.index_select(0, index), weight: classWeights);
        });
    }
}
