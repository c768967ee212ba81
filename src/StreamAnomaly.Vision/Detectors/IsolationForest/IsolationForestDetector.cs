using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.PatchCore;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.IsolationForest;

/// <summary>
/// Isolation forest on frame embeddings of the pretrained ImageNet ResNet-18 (seed 001's classical
/// baselines): random axis-aligned splits isolate an unusual embedding in fewer steps than a common
/// one, so a frame's raw score is 2^(-mean path length / c(psi)) over the trees (about 0.5 or less
/// for normal frames, towards 1 for isolated ones). A whole-frame method: its map is uniform (the
/// score everywhere) and fusion takes its score as a peak that other detectors' masks cannot lower.
/// </summary>
public sealed class IsolationForestDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "iforest";

    private readonly PretrainedResNet18 backbone;
    private readonly Forest forest;
    private readonly Device device;

    /// <param name="backbone">The pretrained network (owned: disposed with the detector).</param>
    /// <param name="forest">The trees grown on the normal frames' embeddings (owned), as many as <see cref="IsolationForestOptions.Trees"/>.</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where embeddings are computed (the trees are walked on the CPU).</param>
    internal IsolationForestDetector(PretrainedResNet18 backbone, Forest forest, IsolationForestOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(forest);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        if (forest.Trees != options.Trees || forest.Samples > options.Samples)
        {
            throw new ArgumentException($"the forest has {forest.Trees} trees grown on {forest.Samples} frames; the options ask for {options.Trees} trees on at most {options.Samples}", nameof(forest));
        }

        this.backbone = backbone;
        this.forest = forest;
        Options = options;
        this.device = device;
        backbone.to(device);
        backbone.eval();
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public IsolationForestOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    /// <summary>False: a whole-frame score, its map uniform.</summary>
    public bool Localises => false;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>Normal frames each tree was grown on.</summary>
    public int Samples => forest.Samples;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var results = new List<RawFrameScore>(frames.Count);
        foreach (var batch in frames.Chunk(FrameEmbeddings.BatchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var embeddings = FrameEmbeddings.Of(backbone, backbone.Preprocessing.FromFrames(batch, Options.Size, Options.Size, device)).cpu();
            var values = embeddings.data<float>().ToArray();
            var dimension = (int)embeddings.shape[1];
            for (var i = 0; i < batch.Length; i++)
            {
                var score = forest.Score(values.AsSpan(i * dimension, dimension));
                results.Add(WholeFrame.Score(score));
            }
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>The trees (split features, thresholds, leaf sizes) as the bundle's weights.</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(forest);

    /// <summary>How many frames each tree was grown on (fixes the trees' shape) and the embedding dimension.</summary>
    public JsonObject? ExportState() => new() { ["samples"] = forest.Samples, ["featureDimension"] = PatchFeatures.Dimension };

    /// <summary>
    /// Rebuilds a detector from a bundle's weights and state; <see cref="InvalidDataFileException"/>
    /// naming <paramref name="path"/> when they do not fit the options or this build's features.
    /// </summary>
    public static IsolationForestDetector Load(IsolationForestOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(weights);
        var samples = state?["samples"] is JsonValue s && s.TryGetValue<int>(out var n) ? n : 0;
        var dimension = state?["featureDimension"] is JsonValue d && d.TryGetValue<long>(out var m) ? m : 0;
        if (samples < 2 || samples > options.Samples)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (iforest state needs 2 to {options.Samples} samples, got {samples})");
        }

        if (dimension != PatchFeatures.Dimension)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (its trees split {dimension}-d embeddings; this build's pretrained ResNet-18 makes {PatchFeatures.Dimension}-d ones)");
        }

        var forest = Forest.Blank(options.Trees, samples);
        try
        {
            ModuleWeights.Import(forest, weights, path, Name);
            try
            {
                forest.Cache(PatchFeatures.Dimension);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataFileException(path, $"corrupted model bundle ({e.Message})", e);
            }

            return new IsolationForestDetector(PretrainedResNet18.Load(), forest, options, device);
        }
        catch
        {
            forest.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        forest.Dispose();
        backbone.Dispose();
    }

}
