using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>The memory bank as a module, so it travels in the bundle's weights (buffer <c>features</c>, [M, D]).</summary>
internal sealed class MemoryBank : nn.Module
{
    private readonly Tensor features;

    public MemoryBank(Tensor features)
        : base(nameof(MemoryBank))
    {
        this.features = features;
        register_buffer(nameof(features), features);
    }

    /// <summary>The bank's patch features [M, D].</summary>
    public Tensor Features => features;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// PatchCore (Roth et al. 2022) on the pretrained ImageNet ResNet-18: a frame's patches are scored
/// by the distance of their locally aware features (<see cref="PatchFeatures"/>) to the nearest
/// feature in a memory bank of normal patches (a greedy coreset of the training patches). The raw
/// frame score is the largest patch distance; the anomaly map is the patch distances upsampled
/// (bilinear) to the input and smoothed with a Gaussian of <see cref="PatchCoreOptions.BlurSigma"/>
/// pixels. The backbone is frozen and comes from the NuGet package; only the bank travels in the bundle.
/// </summary>
public sealed class PatchCoreDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "patchcore";

    /// <summary>Frames per forward pass.</summary>
    public const int BatchSize = 8;

    /// <summary>Bank rows per distance block: bounds the [patches, bank] distance matrix.</summary>
    private const int BankChunk = 16384;

    private readonly PretrainedResNet18 backbone;
    private readonly MemoryBank bank;
    private readonly Tensor bankNorms;
    private readonly Device device;

    /// <param name="backbone">The pretrained network (owned: disposed with the detector).</param>
    /// <param name="bankFeatures">Normal patch features [M, <see cref="PatchFeatures.Dimension"/>] (owned).</param>
    /// <param name="options">The options the bank was built with.</param>
    /// <param name="device">Where features and distances are computed.</param>
    public PatchCoreDetector(PretrainedResNet18 backbone, Tensor bankFeatures, PatchCoreOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(bankFeatures);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        if (bankFeatures.dim() != 2 || bankFeatures.shape[1] != PatchFeatures.Dimension || bankFeatures.shape[0] == 0)
        {
            throw new ArgumentException($"the memory bank must be [M > 0, {PatchFeatures.Dimension}], got [{string.Join(", ", bankFeatures.shape)}]", nameof(bankFeatures));
        }

        this.backbone = backbone;
        bank = new MemoryBank(bankFeatures);
        Options = options;
        this.device = device;
        backbone.to(device);
        backbone.eval();
        bank.to(device);
        bankNorms = bank.Features.square().sum(1).unsqueeze(0); // |b|^2 of every bank row, [1, M]
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public PatchCoreOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>Patches in the memory bank.</summary>
    public long BankPatches => bank.Features.shape[0];

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var size = Options.Size;
        var results = new List<RawFrameScore>(frames.Count);
        foreach (var batch in frames.Chunk(BatchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = backbone.Preprocessing.FromFrames(batch, size, size, device);
            var features = PatchFeatures.Of(backbone, input, Options.Neighbourhood);
            var (n, h, w) = (features.shape[0], features.shape[2], features.shape[3]);
            var patches = NearestDistances(PatchFeatures.Rows(features)).view(n, h, w);
            var raw = patches.flatten(1).max(1).values.cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            var maps = Smooth(interpolate(patches.unsqueeze(1), size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false)).cpu().data<float>().ToArray();
            var plane = size * size;
            for (var i = 0; i < batch.Length; i++)
            {
                results.Add(new RawFrameScore(raw[i], new AnomalyMap(size, size, maps.AsSpan(i * plane, plane).ToArray()), Reduction: ScoreReduction.Peak));
            }
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>The bank's features (with the backbone's layer names) as the bundle's weights.</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(bank);

    /// <summary>The bank's shape, needed to rebuild it before its weights load.</summary>
    public JsonObject? ExportState() => new() { ["bankPatches"] = BankPatches, ["featureDimension"] = PatchFeatures.Dimension };

    /// <summary>
    /// Rebuilds a detector from a bundle's weights and state; <see cref="InvalidDataFileException"/>
    /// naming <paramref name="path"/> when the bank does not fit the features this build makes.
    /// </summary>
    public static PatchCoreDetector Load(PatchCoreOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var (patches, dimension) = (Number(state?["bankPatches"]), Number(state?["featureDimension"]));
        if (patches <= 0)
        {
            throw new InvalidDataFileException(path, "corrupted model bundle (patchcore state has no bankPatches)");
        }

        if (dimension != PatchFeatures.Dimension)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (its memory bank holds {dimension}-d patch features; this build's pretrained ResNet-18 makes {PatchFeatures.Dimension}-d ones)");
        }

        using var holder = new MemoryBank(zeros(patches, dimension));
        ModuleWeights.Import(holder, weights, path, Name);
        return new PatchCoreDetector(PretrainedResNet18.Load(), holder.Features.clone(), options, device);
    }

    /// <summary>A whole number from the state, or 0 when it is missing or not one.</summary>
    private static long Number(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<long>(out var whole) ? whole
        : node is JsonValue small && small.TryGetValue<int>(out var integer) ? integer
        : 0;

    public void Dispose()
    {
        bankNorms.Dispose();
        bank.Dispose();
        backbone.Dispose();
    }

    /// <summary>
    /// Euclidean distance of each row of <paramref name="rows"/> [P, D] to its nearest bank row: [P].
    /// Per block of the bank, <c>|b|^2 - 2 a.b</c> is one fused matrix product (addmm) and its row
    /// minimum; <c>|a|^2</c> is added after the minimum, as it does not change which row is nearest.
    /// </summary>
    private Tensor NearestDistances(Tensor rows)
    {
        var features = bank.Features;
        Tensor? best = null;
        for (long start = 0; start < features.shape[0]; start += BankChunk)
        {
            var length = Math.Min(BankChunk, features.shape[0] - start);
            var block = features.narrow(0, start, length);
            var nearest = addmm(bankNorms.narrow(1, start, length), rows, block.t(), beta: 1, alpha: -2).min(1).values;
            best = best is null ? nearest : minimum(best, nearest);
        }

        return best!.Plus(rows.square().sum(1)).clamp_min(HeldScalars.Zero).sqrt();
    }

    /// <summary>Gaussian smoothing of maps [N, 1, S, S] with <see cref="PatchCoreOptions.BlurSigma"/> (reflected edges, radius 4 sigma).</summary>
    private Tensor Smooth(Tensor maps)
    {
        var sigma = Options.BlurSigma;
        var radius = (int)Math.Min(Math.Ceiling(4 * sigma), Options.Size - 1);
        if (sigma <= 0 || radius < 1)
        {
            return maps;
        }

        var weights = Enumerable.Range(-radius, (2 * radius) + 1).Select(x => Math.Exp(-(x * x) / (2 * sigma * sigma))).ToArray();
        var kernel = tensor(weights.Select(v => (float)(v / weights.Sum())).ToArray(), device: maps.device);
        var padded = pad(maps, [radius, radius, radius, radius], PaddingModes.Reflect);
        var rowsSmoothed = conv2d(padded, kernel.view(1, 1, 1, -1));
        return conv2d(rowsSmoothed, kernel.view(1, 1, -1, 1));
    }
}
