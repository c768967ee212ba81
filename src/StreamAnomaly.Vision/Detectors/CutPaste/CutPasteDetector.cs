using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.CutPaste;

/// <summary>
/// CutPaste (Li, Sohn, Yoon and Pfister, CVPR 2021) on the frozen pretrained ImageNet ResNet-18: a
/// frame's pooled layer4 features go through the projection head trained to tell normal frames
/// from CutPaste and scar copies of themselves, and its raw score is the Mahalanobis distance of
/// that embedding to the Gaussian of the normal frames' embeddings. The backbone is not
/// fine-tuned (it is a frozen feature extractor here): only the head learns. A whole-frame method
/// (the paper's image-level variant): its map is uniform (the score everywhere) with
/// <see cref="ScoreReduction.Peak"/>, as <c>lof</c>'s is.
/// </summary>
public sealed class CutPasteDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "cutpaste";

    /// <summary>Frames per forward pass.</summary>
    public const int BatchSize = 8;

    private readonly PretrainedResNet18 backbone;
    private readonly CutPasteModel model;
    private readonly Device device;

    /// <param name="backbone">The pretrained network (owned: disposed with the detector).</param>
    /// <param name="model">The trained head and the normal Gaussian (owned).</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where it runs.</param>
    internal CutPasteDetector(PretrainedResNet18 backbone, CutPasteModel model, CutPasteOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        if (model.Density.Dimension != options.Embedding)
        {
            throw new ArgumentException($"the Gaussian models {model.Density.Dimension}-d embeddings, the options ask for {options.Embedding}", nameof(model));
        }

        this.backbone = backbone;
        this.model = model;
        Options = options;
        this.device = device;
        backbone.to(device);
        backbone.eval();
        model.to(device);
        model.eval();
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public CutPasteOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    /// <summary>False: a whole-frame score, its map uniform.</summary>
    public bool Localises => false;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>The head and the Gaussian, for tests.</summary>
    internal CutPasteModel Model => model;

    /// <summary>BGR images (HWC bytes, <paramref name="size"/> square) to a uint8 tensor [N, 3, size, size].</summary>
    internal static Tensor Planar(IReadOnlyList<byte[]> images, int size)
    {
        var all = new byte[images.Count * size * size * 3];
        for (var i = 0; i < images.Count; i++)
        {
            images[i].CopyTo(all, i * size * size * 3);
        }

        using var hwc = tensor(all, [images.Count, size, size, 3], dtype: ScalarType.Byte);
        return hwc.permute(0, 3, 1, 2).contiguous();
    }

    /// <summary>The head's embeddings [N, E] of BGR images [N, 3, S, S] (uint8, on the detector's device).</summary>
    internal Tensor Embed(Tensor bgr)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = backbone.Features(backbone.Preprocessing.Apply(bgr), PretrainedStage.Pooled)[0];
        return model.Head.Embed(features).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var results = new List<RawFrameScore>(frames.Count);
        foreach (var batch in frames.Chunk(BatchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var embeddings = Embed(FrameTensors.ToByteTensor(batch, Options.Size, Options.Size).to(device));
            var scores = model.Density.Distance(embeddings).cpu().data<double>().ToArray();
            results.AddRange(scores.Select(WholeFrame.Score));
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>The head's weights, the Gaussian's mean and its precision (inverse covariance).</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(model);

    public JsonObject? ExportState() => null;

    /// <summary>Rebuilds a detector from a bundle's weights; <see cref="Core.Data.InvalidDataFileException"/> naming <paramref name="path"/> when they do not fit the options.</summary>
    public static CutPasteDetector Load(CutPasteOptions options, byte[] weights, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        var model = new CutPasteModel(
            new CutPasteHead(PretrainedResNet18.Channels(PretrainedStage.Pooled), options.Hidden, options.Embedding),
            GaussianDensity.Blank(options.Embedding));
        ModuleWeights.Import(model, weights, path, Name);
        try
        {
            return new CutPasteDetector(PretrainedResNet18.Load(), model, options, device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        model.Dispose();
        backbone.Dispose();
    }

}
