using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Lof;

/// <summary>
/// LOF's catalog entry. Fitting has no training loop: the usable frames go through the frozen
/// backbone, at most <see cref="LofOptions.MaxFrames"/> of their embeddings are kept (a seeded
/// random subset beyond that), and each kept one's k-distance and local reachability density are
/// computed once, so scoring a frame costs its embedding and one nearest-neighbour search.
/// </summary>
public sealed class LofDefinition : DetectorDefinition<LofOptions>
{
    public override string Name => LofDetector.Name;

    public override string Summary => "Local outlier factor of a frame's pretrained ResNet-18 embedding (mean layer2 + layer3 features) among the normal frames' (whole-frame, no map)";

    public override DetectorOptions Quick => new LofOptions { Size = 64, Neighbours = 5 };

    protected override FittedDetector Fit(LofOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var backbone = PretrainedResNet18.Load();
        try
        {
            backbone.to(context.Device);
            backbone.eval();
            var stopwatch = Stopwatch.StartNew();
            var (embeddings, seen) = Embeddings(backbone, options, clips, frames, context);
            NormalFrames normal;
            using (embeddings)
            {
                normal = NormalFrames.Fit(embeddings, options.Neighbours);
            }

            var detector = new LofDetector(backbone, normal, options, context.Device);
            var facts = new Dictionary<string, string>
            {
                ["trainFrames"] = seen.ToString(CultureInfo.InvariantCulture),
                ["normalFrames"] = detector.NormalFrameCount.ToString(CultureInfo.InvariantCulture),
                ["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
            };
            return new FittedDetector(detector, facts);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>At most <see cref="LofOptions.MaxFrames"/> embeddings of the usable frames [N, D] (the caller owns them) and how many frames were seen.</summary>
    private static (Tensor Embeddings, long Seen) Embeddings(PretrainedResNet18 backbone, LofOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        using var scope = NewDisposeScope();
        var embeddings = FrameEmbeddings.Of(backbone, frames.Frames(clips), options.Size, context.Device, context.CancellationToken);
        var seen = embeddings.shape[0];
        if (seen <= options.Neighbours)
        {
            throw new ArgumentException($"lof needs more than {options.Neighbours} (Neighbours) {frames} frames, got {seen}");
        }

        if (seen > options.MaxFrames)
        {
            using var generator = new Generator((ulong)context.Seed, context.Device);
            embeddings = embeddings.index_select(0, randperm(seen, generator: generator, device: context.Device).narrow(0, 0, options.MaxFrames));
        }

        return (embeddings.MoveToOuterDisposeScope(), seen);
    }

    protected override IBundledDetector Load(LofOptions options, byte[] weights, JsonObject? state, string path, Device device) =>
        LofDetector.Load(options, weights, state, path, device);
}
