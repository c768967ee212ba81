using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.PatchCore;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Lof;

/// <summary>
/// What LOF keeps of the normal frames, as a module so it travels in the bundle's weights: buffers
/// <c>embeddings</c> [N, D], each one's <c>kdistance</c> (distance to its k-th nearest other
/// embedding) [N] and <c>density</c> (local reachability density) [N].
/// </summary>
internal sealed class NormalFrames : nn.Module
{
    private readonly Tensor embeddings;
    private readonly Tensor kdistance;
    private readonly Tensor density;

    public NormalFrames(Tensor embeddings, Tensor kdistance, Tensor density)
        : base(nameof(NormalFrames))
    {
        (this.embeddings, this.kdistance, this.density) = (embeddings, kdistance, density);
        register_buffer(nameof(embeddings), embeddings);
        register_buffer(nameof(kdistance), kdistance);
        register_buffer(nameof(density), density);
    }

    public Tensor Embeddings => embeddings;

    /// <summary>Blank buffers of the right shapes, for a bundle's weights to load into.</summary>
    public static NormalFrames Blank(long frames, long dimension) => new(zeros(frames, dimension), zeros(frames), zeros(frames));

    /// <summary>
    /// The LOF model of <paramref name="embeddings"/> [N, D] (N &gt; k): each one's distance to its
    /// k-th nearest other embedding and its local reachability density
    /// <c>lrd(p) = 1 / mean over its k neighbours o of max(d(p, o), kdistance(o))</c>.
    /// </summary>
    public static NormalFrames Fit(Tensor embeddings, int k)
    {
        using var scope = NewDisposeScope();
        var distances = cdist(embeddings, embeddings);
        distances.diagonal().fill_(double.PositiveInfinity); // a frame is not its own neighbour (diagonal is a view)
        var (nearest, indices) = distances.topk(k, dim: 1, largest: false);
        var kdistance = nearest.select(1, k - 1).contiguous();
        var density = Reach(nearest, indices, kdistance).mean([1]).clamp_min(1e-12).reciprocal();
        return new NormalFrames(embeddings.clone().DetachFromDisposeScope(), kdistance.DetachFromDisposeScope(), density.DetachFromDisposeScope());
    }

    /// <summary>
    /// The local outlier factor of each of <paramref name="queries"/> [Q, D] among these embeddings
    /// with <paramref name="k"/> neighbours, [Q]: the mean density of its k nearest embeddings times
    /// its mean reachability distance to them (the inverse of its own density).
    /// </summary>
    public Tensor Factor(Tensor queries, int k)
    {
        using var scope = NewDisposeScope();
        var (nearest, indices) = cdist(queries, embeddings).topk(k, dim: 1, largest: false);
        var neighbourDensity = Gather(density, indices).mean([1]);
        return (neighbourDensity * Reach(nearest, indices, kdistance).mean([1])).MoveToOuterDisposeScope();
    }

    /// <summary>Reachability distances max(d(p, o), kdistance(o)) of each row's neighbours <paramref name="indices"/> at <paramref name="nearest"/> distances.</summary>
    private static Tensor Reach(Tensor nearest, Tensor indices, Tensor kdistance) => maximum(nearest, Gather(kdistance, indices));

    /// <summary><paramref name="values"/>[<paramref name="indices"/>], shaped as the indices.</summary>
    private static Tensor Gather(Tensor values, Tensor indices) => values.index_select(0, indices.flatten()).view(indices.shape);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embeddings.Dispose();
            kdistance.Dispose();
            density.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Local outlier factor on frame embeddings of the pretrained ImageNet ResNet-18 (seed 001's
/// classical baselines): a frame is embedded as the mean of its layer2 and layer3 features (the
/// same 384-d features PatchCore compares patch by patch), and its raw score is its LOF among the
/// normal frames' embeddings: the mean local reachability density of its k nearest normal frames
/// over its own (about 1 inside a normal cluster, growing with isolation). A whole-frame method: it
/// does not localise, so its map is uniform (the score everywhere) and fusion takes its score as a
/// peak that other detectors' masks cannot lower.
/// </summary>
public sealed class LofDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "lof";

    private readonly PretrainedResNet18 backbone;
    private readonly NormalFrames normal;
    private readonly Device device;

    /// <param name="backbone">The pretrained network (owned: disposed with the detector).</param>
    /// <param name="normal">The normal frames' LOF model (owned), more frames than neighbours.</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where embeddings and distances are computed.</param>
    internal LofDetector(PretrainedResNet18 backbone, NormalFrames normal, LofOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(normal);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        var shape = normal.Embeddings.shape;
        if (shape.Length != 2 || shape[1] != PatchFeatures.Dimension || shape[0] <= options.Neighbours)
        {
            throw new ArgumentException($"the normal embeddings must be [N > {options.Neighbours}, {PatchFeatures.Dimension}], got [{string.Join(", ", shape)}]", nameof(normal));
        }

        this.backbone = backbone;
        this.normal = normal;
        Options = options;
        this.device = device;
        backbone.to(device);
        backbone.eval();
        normal.to(device);
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public LofOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    /// <summary>False: a whole-frame score, its map uniform.</summary>
    public bool Localises => false;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>Normal frames kept.</summary>
    public long NormalFrameCount => normal.Embeddings.shape[0];

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var results = new List<RawFrameScore>(frames.Count);
        foreach (var batch in frames.Chunk(FrameEmbeddings.BatchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var embeddings = FrameEmbeddings.Of(backbone, backbone.Preprocessing.FromFrames(batch, Options.Size, Options.Size, device));
            var lof = normal.Factor(embeddings, Options.Neighbours).cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            results.AddRange(lof.Select(WholeFrame.Score));
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>The normal frames' embeddings, k-distances and densities as the bundle's weights.</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(normal);

    /// <summary>How many normal frames and of which dimension, needed to rebuild the buffers before the weights load.</summary>
    public JsonObject? ExportState() => new() { ["normalFrames"] = NormalFrameCount, ["featureDimension"] = PatchFeatures.Dimension };

    /// <summary>
    /// Rebuilds a detector from a bundle's weights and state; <see cref="InvalidDataFileException"/>
    /// naming <paramref name="path"/> when they do not fit the features this build makes.
    /// </summary>
    public static LofDetector Load(LofOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var frames = state?["normalFrames"] is JsonValue f && f.TryGetValue<long>(out var n) ? n : 0;
        var dimension = state?["featureDimension"] is JsonValue d && d.TryGetValue<long>(out var m) ? m : 0;
        if (frames <= options.Neighbours || frames > options.MaxFrames)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (lof state needs {options.Neighbours + 1} to {options.MaxFrames} normalFrames, got {frames})");
        }

        if (dimension != PatchFeatures.Dimension)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (its normal frames are {dimension}-d embeddings; this build's pretrained ResNet-18 makes {PatchFeatures.Dimension}-d ones)");
        }

        var normal = NormalFrames.Blank(frames, dimension);
        try
        {
            ModuleWeights.Import(normal, weights, path, Name);
            return new LofDetector(PretrainedResNet18.Load(), normal, options, device);
        }
        catch
        {
            normal.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        normal.Dispose();
        backbone.Dispose();
    }

}
