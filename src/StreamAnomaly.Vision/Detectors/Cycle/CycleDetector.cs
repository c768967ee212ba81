using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.Cycle;

/// <summary>What the cycle detector learned besides its template: the normal cycle's length in frames.</summary>
/// <param name="Period">Mean cycle length of the reference clip, frames.</param>
/// <param name="ShortestCycle">Shortest complete cycle seen in training, frames (0 when none was complete).</param>
/// <param name="LongestCycle">Longest complete cycle seen in training, frames (0 when none was complete).</param>
public sealed record CycleFacts(double Period, double ShortestCycle, double LongestCycle);

/// <summary>
/// The cycle-phase timing detector. It knows the machine's normal cycle as a template of phase bins
/// (<see cref="CycleTemplate"/>, learned from normal clips labelled by frame distance and dynamic
/// time warping) and scores each frame by how badly the window of frames ending with it fits that
/// cycle run at a normal pace (<see cref="CycleAlignment"/>): a stalled arm, a cycle too fast or
/// too slow and a skipped step score high; what changes a frame's look at every phase alike (a
/// foreign object, lighting) mostly cancels (a person right in front of the arm does not). Each score
/// carries the frame's phase in the cycle. The anomaly map shows the cells that differ between the
/// phase the timing expects and the phase the frame looks like. A frame's per-cell distances to the
/// template are computed once and remembered for as long as the frame object lives, so a streaming
/// caller that passes each camera's window again pays for one frame per call.
/// </summary>
public sealed class CycleDetector : IBundledDetector, IFrameCache
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "cycle";

    private readonly PretrainedResNet18 backbone;
    private readonly CycleTemplate template;
    private readonly Device device;
    private readonly double[] speeds;
    private readonly BinaryMask? background;
    private readonly ConditionalWeakTable<Frame, Seen> seen = [];

    /// <param name="backbone">The pretrained network (owned).</param>
    /// <param name="template">The learned cycle (owned).</param>
    /// <param name="facts">The learned cycle lengths.</param>
    /// <param name="options">The options it was fitted with.</param>
    /// <param name="device">Where features are computed.</param>
    public CycleDetector(PretrainedResNet18 backbone, CycleTemplate template, CycleFacts facts, CycleOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        var cells = (long)CycleFeatures.Grid(options.Size) * CycleFeatures.Grid(options.Size);
        if (template.Template.shape[1] != cells || template.Template.shape[2] != CycleFeatures.Channels)
        {
            throw new ArgumentException($"a {options.Size} px cycle template has {cells} cells of {CycleFeatures.Channels} features, got [{string.Join(", ", template.Template.shape)}]", nameof(template));
        }

        this.backbone = backbone;
        this.template = template;
        this.device = device;
        Facts = facts;
        Options = options;
        backbone.to(device);
        backbone.eval();
        template.to(device);
        speeds = CycleAlignment.Speeds(options.SpeedTolerance, options.SpeedSteps);
        var backgroundCells = template.Background();
        BackgroundCells = backgroundCells.Count(static b => b);
        background = BackgroundMask(backgroundCells, CycleFeatures.Grid(options.Size), options.Size);
        History = Math.Max(2, (int)Math.Round(options.WindowCycles * template.Bins));
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public CycleOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    /// <summary>The learned cycle lengths.</summary>
    public CycleFacts Facts { get; }

    /// <summary>Cells of the feature grid that are background (they hardly follow the cycle): every score's <see cref="RawFrameScore.Ignored"/>.</summary>
    public int BackgroundCells { get; }

    /// <summary>Phase bins of the learned cycle.</summary>
    public int Bins => template.Bins;

    /// <summary>Frames one timing score checks: <see cref="CycleOptions.WindowCycles"/> of the learned cycle, at least 2.</summary>
    public int History { get; }

    public IReadOnlyList<string> Variants { get; } = [Name];

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            return [];
        }

        var known = Observe(frames);
        var rows = known.Select(static s => s.Distances).ToArray();
        var matches = Enumerable.Range(0, frames.Count).Select(t => CycleAlignment.Match(rows, t, History, speeds)).ToArray();
        var expected = matches.Select(m => (int)Math.Round(m.Phase * Bins) % Bins).ToArray();
        var nearest = rows.Select(static r => Array.IndexOf(r, r.Min())).ToArray();
        var maps = Maps(known, expected, nearest);
        return matches.Select((m, t) => new RawFrameScore(m.Excess, maps[t], background, m.Phase)).ToArray();
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    public void Cache(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        Observe(frames);
    }

    /// <summary>The template and cell weights as the bundle's weights.</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(template);

    /// <summary>The template's shape and the learned cycle lengths.</summary>
    public JsonObject? ExportState() => new()
    {
        ["bins"] = Bins,
        ["period"] = Facts.Period,
        ["shortestCycle"] = Facts.ShortestCycle,
        ["longestCycle"] = Facts.LongestCycle,
    };

    /// <summary>
    /// Rebuilds a detector from a bundle's weights and state; <see cref="InvalidDataFileException"/>
    /// naming <paramref name="path"/> when they do not fit the options.
    /// </summary>
    public static CycleDetector Load(CycleOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(weights);
        var bins = state?["bins"] is JsonValue b && b.TryGetValue<int>(out var n) ? n : 0;
        var period = state?["period"] is JsonValue p && p.TryGetValue<double>(out var x) ? x : 0;
        if (bins < 2 || !(period > 0) || !double.IsFinite(period))
        {
            throw new InvalidDataFileException(path, "corrupted model bundle (cycle state needs bins >= 2 and a positive period)");
        }

        var cells = CycleFeatures.Grid(options.Size) * CycleFeatures.Grid(options.Size);
        if ((long)bins * cells * CycleFeatures.Channels > DetectorOptions.MaxLayerParameters)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (a template of {bins} phase bins x {cells} cells would hold more than the {DetectorOptions.MaxLayerParameters:N0} values a layer may hold)");
        }

        var holder = CycleTemplate.Blank(bins, cells);
        ModuleWeights.Import(holder, weights, path, Name);
        var facts = new CycleFacts(period, Number(state?["shortestCycle"]), Number(state?["longestCycle"]));
        return new CycleDetector(PretrainedResNet18.Load(), holder, facts, options, device);
    }

    public void Dispose()
    {
        template.Dispose();
        backbone.Dispose();
    }

    private static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var x) && double.IsFinite(x) ? x : 0;

    /// <summary>Each frame's features and bin distances, computed for the frames not seen before.</summary>
    private Seen[] Observe(IReadOnlyList<Frame> frames)
    {
        var fresh = frames.Where(f => !seen.TryGetValue(f, out _)).Distinct(ReferenceEqualityComparer.Instance).Cast<Frame>().ToArray();
        if (fresh.Length > 0)
        {
            using var scope = NewDisposeScope();
            var cells = template.CellDistances(CycleFeatures.Of(backbone, fresh, Options.Size, device));      // [N, cells, L]
            var distances = cells.sum(1).cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            var flat = cells.cpu().data<float>().ToArray();
            var (bins, width) = (Bins, (int)(cells.shape[1] * cells.shape[2]));
            for (var i = 0; i < fresh.Length; i++)
            {
                seen.AddOrUpdate(fresh[i], new Seen(flat.AsSpan(i * width, width).ToArray(), distances.AsSpan(i * bins, bins).ToArray()));
            }
        }

        return frames.Select(f => seen.TryGetValue(f, out var s) ? s : throw new InvalidOperationException("a frame's features were lost")).ToArray();
    }

    /// <summary>
    /// Per frame, the cells whose features sit farther from the expected phase bin than from the bin
    /// the frame looks like most (zero elsewhere), bilinearly upsampled to the input side.
    /// </summary>
    private AnomalyMap[] Maps(Seen[] known, int[] expected, int[] nearest)
    {
        using var scope = NewDisposeScope();
        var (grid, bins) = (CycleFeatures.Grid(Options.Size), Bins);
        var cells = grid * grid;
        var excess = new float[known.Length * cells];
        for (var i = 0; i < known.Length; i++)
        {
            var row = known[i].CellDistances;
            for (var c = 0; c < cells; c++)
            {
                excess[(i * cells) + c] = Math.Max(0, row[(c * bins) + expected[i]] - row[(c * bins) + nearest[i]]);
            }
        }

        var size = Options.Size;
        var maps = interpolate(tensor(excess, [known.Length, 1, grid, grid]), size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false).data<float>().ToArray();
        var plane = size * size;
        return known.Select((_, i) => new AnomalyMap(size, size, maps.AsSpan(i * plane, plane).ToArray())).ToArray();
    }

    /// <summary>The background cells as a mask of the map's size (null when there are none): what this detector tells fusion to ignore.</summary>
    private static BinaryMask? BackgroundMask(bool[] cells, int grid, int size)
    {
        if (!cells.Contains(true))
        {
            return null;
        }

        var data = new bool[size * size];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                data[(y * size) + x] = cells[((y * grid / size) * grid) + (x * grid / size)];
            }
        }

        return new BinaryMask(size, size, data);
    }

    /// <summary>A frame's weighted per-cell distances to every phase bin (flattened [cells, L]) and their sums over cells, its distance to each bin.</summary>
    private sealed record Seen(float[] CellDistances, double[] Distances);
}
