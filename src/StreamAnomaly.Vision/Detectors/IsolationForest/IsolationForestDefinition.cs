using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.IsolationForest;

/// <summary>
/// The isolation forest's catalog entry. Fitting has no training loop: the usable frames go through
/// the frozen backbone and the trees are grown on seeded random subsamples of their embeddings.
/// </summary>
public sealed class IsolationForestDefinition : DetectorDefinition<IsolationForestOptions>
{
    public override string Name => IsolationForestDetector.Name;

    public override string Summary => "Isolation forest on a frame's pretrained ResNet-18 embedding (mean layer2 + layer3 features): how quickly random splits isolate it from the normal frames' (whole-frame, no map)";

    public override DetectorOptions Quick => new IsolationForestOptions { Size = 64, Trees = 50, Samples = 64 };

    protected override FittedDetector Fit(IsolationForestOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var backbone = PretrainedResNet18.Load();
        try
        {
            backbone.to(context.Device);
            backbone.eval();
            float[][] vectors;
            using (var embeddings = FrameEmbeddings.Of(backbone, frames.Frames(clips), options.Size, context.Device, context.CancellationToken))
            {
                if (embeddings.shape[0] < 2)
                {
                    throw new ArgumentException($"iforest needs at least 2 {frames} frames, got {embeddings.shape[0]}");
                }

                using var rows = embeddings.cpu();
                vectors = Enumerable.Range(0, (int)rows.shape[0]).Select(i => { using var row = rows[i]; return row.data<float>().ToArray(); }).ToArray();
            }

            var forest = Forest.Grow(vectors, options.Trees, options.Samples, context.Seed);
            var detector = new IsolationForestDetector(backbone, forest, options, context.Device);
            return new FittedDetector(detector, new Dictionary<string, string>
            {
                ["trainFrames"] = vectors.Length.ToString(CultureInfo.InvariantCulture),
                ["samplesPerTree"] = forest.Samples.ToString(CultureInfo.InvariantCulture),
            });
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    protected override IBundledDetector Load(IsolationForestOptions options, byte[] weights, JsonObject? state, string path, Device device) =>
        IsolationForestDetector.Load(options, weights, state, path, device);
}
