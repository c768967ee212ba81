using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Cycle;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>
/// The memory bank as a module, so it travels in the bundle's weights: buffer <c>features</c>
/// [M, D] and, when the patches carry their context, child <c>context</c> (<see cref="PatchContext"/>).
/// </summary>
internal sealed class MemoryBank : nn.Module
{
    private readonly Tensor features;
    private readonly PatchContext? context;

    public MemoryBank(Tensor features, PatchContext? context)
        : base(nameof(MemoryBank))
    {
        this.features = features;
        this.context = context;
        register_buffer(nameof(features), features);
        if (context is not null)
        {
            register_module(nameof(context), context);
        }
    }

    /// <summary>The bank's patch features [M, D].</summary>
    public Tensor Features => features;

    /// <summary>The context the patch features carry, or null.</summary>
    public PatchContext? Context => context;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            context?.Dispose();
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
/// With a phase or position weight the patch features also carry when in the machine cycle and
/// where in the frame they were seen (<see cref="PatchContext"/>).
/// </summary>
public sealed class PatchCoreDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "patchcore";

    /// <summary>Frames per forward pass.</summary>
    public const int BatchSize = 8;

    /// <summary>Most phase bins a bundle's cycle template may have (a cycle of 1,000 frames).</summary>
    private const int MaxPhaseBins = 1000;

    /// <summary>Bank rows per distance block: bounds the [patches, bank] distance matrix.</summary>
    private const int BankChunk = 16384;

    private readonly PretrainedResNet18 backbone;
    private readonly MemoryBank bank;
    private readonly Tensor bankNorms;
    private readonly Device device;

    /// <param name="backbone">The pretrained network (owned: disposed with the detector).</param>
    /// <param name="bank">The memory bank of normal patch rows [M, <see cref="Dimension"/>] and the context they carry (owned): a context with a phase or position weight, none without.</param>
    /// <param name="options">The options the bank was built with.</param>
    /// <param name="device">Where features and distances are computed.</param>
    internal PatchCoreDetector(PretrainedResNet18 backbone, MemoryBank bank, PatchCoreOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        if (options.HasContext != (bank.Context is not null))
        {
            throw new ArgumentException("patch context comes with a phase or position weight, and only then", nameof(bank));
        }

        var dimension = Dimension(options);
        var features = bank.Features;
        if (features.dim() != 2 || features.shape[1] != dimension || features.shape[0] == 0)
        {
            throw new ArgumentException($"the memory bank must be [M > 0, {dimension}], got [{string.Join(", ", features.shape)}]", nameof(bank));
        }

        this.backbone = backbone;
        this.bank = bank;
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

    /// <summary>Phase bins of the machine cycle the patches are conditioned on (0 without a phase weight).</summary>
    public int PhaseBins => bank.Context?.Bins ?? 0;

    /// <summary>Length of a bank row with these options: the patch features, plus their context coordinates when they carry them.</summary>
    public static int Dimension(PatchCoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return PatchFeatures.Dimension + (options.HasContext ? PatchContext.Extra : 0);
    }

    /// <summary>
    /// One bank row per patch of a preprocessed batch [N, 3, H, W]: [N h w, <see cref="Dimension"/>],
    /// the patch features and, with a context, their coordinates; and the patch grid's side (h, w).
    /// </summary>
    private (Tensor Rows, long Height, long Width) Rows(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (patches, layer3) = PatchFeatures.OfWithLayer3(backbone, input, Options.Neighbourhood);
        var rows = bank.Context is { } context ? context.Rows(patches, layer3) : PatchFeatures.Rows(patches);
        return (rows.MoveToOuterDisposeScope(), patches.shape[2], patches.shape[3]);
    }

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
            var (rows, h, w) = Rows(input);
            var patches = NearestDistances(rows).view(batch.Length, h, w);
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

    /// <summary>The bank's shape, needed to rebuild it before its weights load, and the context's spread and phase bins.</summary>
    public JsonObject? ExportState()
    {
        var state = new JsonObject { ["bankPatches"] = BankPatches, ["featureDimension"] = PatchFeatures.Dimension };
        if (bank.Context is { } context)
        {
            state["featureSpread"] = context.Spread;
            state["phaseBins"] = context.Bins;
        }

        return state;
    }

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

        PatchContext? context = null;
        if (options.HasContext)
        {
            var spread = state?["featureSpread"] is JsonValue s && s.TryGetValue<double>(out var x) ? x : 0;
            var bins = (int)Number(state?["phaseBins"]);
            if (!(spread > 0) || !double.IsFinite(spread) || (options.PhaseWeight > 0) != (bins >= 2) || bins > MaxPhaseBins)
            {
                throw new InvalidDataFileException(path, $"corrupted model bundle (patchcore with context needs a positive featureSpread and, with a phase weight, 2 to {MaxPhaseBins} phaseBins)");
            }

            var cells = CycleFeatures.Grid(options.Size) * CycleFeatures.Grid(options.Size);
            var cycle = bins >= 2 ? CycleTemplate.Blank(bins, cells) : null;
            context = new PatchContext(cycle, spread, options);
        }

        var bank = new MemoryBank(zeros(patches, Dimension(options)), context);
        try
        {
            ModuleWeights.Import(bank, weights, path, Name);
            return new PatchCoreDetector(PretrainedResNet18.Load(), bank, options, device);
        }
        catch
        {
            bank.Dispose();
            throw;
        }
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
