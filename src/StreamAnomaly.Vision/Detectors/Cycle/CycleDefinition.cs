using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Cycle;

/// <summary>What <see cref="CycleDefinition.Learn"/> learned: the template (owned by the caller), the period, the complete training cycles' lengths in frames, and what it learned from.</summary>
public sealed record LearnedCycle(CycleTemplate Template, PeriodEstimate Cycle, IReadOnlyList<double> Cycles, int Runs, int Frames, string ReferenceClip);

/// <summary>
/// The cycle-phase detector's catalog entry. Fitting has no training loop; it follows the masking
/// paper's weak labels on pretrained features instead of pixels:
/// <list type="number">
/// <item>every run of consecutive usable frames goes through the frozen ResNet-18
/// (<see cref="CycleFeatures"/>); d(t) is the mean per-cell feature distance of each frame to the
/// first frame of the longest run (the reference pose, the same for every run);</item>
/// <item>the period and a one-cycle template of d come from <see cref="PeriodEstimator"/> on the
/// longest run; L = the template's length in frames;</item>
/// <item>each run is aligned to the template repeated to its length by dynamic time warping
/// (<see cref="CycleLabels"/>): every frame gets its position in the cycle, in frames;</item>
/// <item>the template of features is the mean of the frames in each of the L phase bins, and the
/// cells are weighted by how much they tell phases apart (<see cref="CycleTemplate.Learn"/>).</item>
/// </list>
/// Runs are embedded one at a time, so memory holds one run's features, not the data set's.
/// </summary>
public sealed class CycleDefinition : DetectorDefinition<CycleOptions>
{
    /// <summary>The stage name its progress reports carry (no loss: NaN).</summary>
    public const string TemplateStage = "cycle template";

    public override string Name => CycleDetector.Name;

    public override string Summary => "Cycle phase: tracks each camera's machine cycle on pretrained ResNet-18 features and scores stalls, skipped steps and cycles run too fast or too slow";

    public override DetectorOptions Quick => new CycleOptions { Size = 64 };

    protected override FittedDetector Fit(CycleOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        var backbone = PretrainedResNet18.Load();
        try
        {
            backbone.to(context.Device);
            backbone.eval();
            var learned = Learn(backbone, clips, frames, options.Size, options.MinPeriod, context);
            var (cycle, cycles) = (learned.Cycle, learned.Cycles);
            var facts = new CycleFacts(cycle.Period, cycles.Count > 0 ? cycles.Min() : 0, cycles.Count > 0 ? cycles.Max() : 0);
            var detector = new CycleDetector(backbone, learned.Template, facts, options, context.Device);
            return new FittedDetector(detector, new Dictionary<string, string>
            {
                ["trainFrames"] = learned.Frames.ToString(CultureInfo.InvariantCulture),
                ["runs"] = learned.Runs.ToString(CultureInfo.InvariantCulture),
                ["referenceClip"] = learned.ReferenceClip,
                ["periodFrames"] = cycle.Period.ToString("F2", CultureInfo.InvariantCulture),
                ["phaseBins"] = learned.Template.Bins.ToString(CultureInfo.InvariantCulture),
                ["completeCycles"] = cycles.Count.ToString(CultureInfo.InvariantCulture),
                ["cycleFramesRange"] = cycles.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"{cycles.Min():F1}-{cycles.Max():F1}") : "none",
                ["windowFrames"] = detector.History.ToString(CultureInfo.InvariantCulture),
                ["backgroundCells"] = string.Create(CultureInfo.InvariantCulture, $"{detector.BackgroundCells} of {CycleFeatures.Grid(options.Size) * CycleFeatures.Grid(options.Size)}"),
                ["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
            });
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Learns the machine cycle from the runs of usable frames (steps 1 to 4 above) on the given
    /// backbone at input side <paramref name="size"/>: the template, the period and the lengths of
    /// the complete training cycles. Also used by PatchCore's phase context.
    /// </summary>
    public static LearnedCycle Learn(PretrainedResNet18 backbone, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, int size, int minPeriod, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(context);
        var runs = frames.Runs(clips, minimum: 2);
        if (runs.Count == 0)
        {
            throw new ArgumentException($"no run of 2 or more consecutive {frames} to learn the machine cycle from");
        }

        var reference = runs.MaxBy(static r => r.Frames.Count)!;
        using var referenceFeatures = CycleFeatures.Of(backbone, reference.Frames, size, context.Device); // kept: the loop below needs them again
        float[] referencePose;
        PeriodEstimate cycle;
        using (var scope = NewDisposeScope())
        {
            var features = referenceFeatures.cpu();
            referencePose = features[0].data<float>().ToArray();
            var distance = PoseDistances(features, referencePose);
            try
            {
                cycle = PeriodEstimator.Estimate(distance, minPeriod: minPeriod);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                throw new ArgumentException($"no machine cycle found in the longest run of {frames} ({reference.Clip.Name}, {distance.Length} frames): {e.Message}", e);
            }
        }

        var bins = cycle.Template.Length;
        using var sums = zeros([bins, CycleFeatures.Grid(size) * CycleFeatures.Grid(size), CycleFeatures.Channels], ScalarType.Float64, context.Device);
        using var counts = zeros([bins], ScalarType.Float64, context.Device);
        var cycles = new List<double>();
        foreach (var (run, index) in runs.Select((r, i) => (r, i)))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var features = ReferenceEquals(run, reference) ? referenceFeatures : CycleFeatures.Of(backbone, run.Frames, size, context.Device);
            var positions = CycleLabels.Label(PoseDistances(features.cpu(), referencePose), cycle, classes: bins, transition: 0).Position;
            var binOf = tensor(positions.Select(p => (long)Math.Floor(p) % bins).ToArray(), device: context.Device);
            sums.index_add_(0, binOf, features.to_type(ScalarType.Float64), HeldScalars.One);
            counts.index_add_(0, binOf, ones(positions.Length, ScalarType.Float64, context.Device), HeldScalars.One);
            cycles.AddRange(CompleteCycles(positions, bins));
            context.Progress?.Report(new TrainingProgress(TemplateStage, 1, 1, index + 1, runs.Count, double.NaN));
        }

        return new LearnedCycle(CycleTemplate.Learn(sums, counts), cycle, cycles, runs.Count, runs.Sum(static r => r.Frames.Count), reference.Clip.Name);
    }

    protected override IBundledDetector Load(CycleOptions options, byte[] weights, JsonObject? state, string path, Device device) =>
        CycleDetector.Load(options, weights, state, path, device);

    /// <summary>
    /// Lengths in frames of the complete cycles of one run, by the rule the live cycle-time metric
    /// uses (<see cref="CycleClock"/> on the aligned positions, one frame a second).
    /// </summary>
    public static IEnumerable<double> CompleteCycles(IReadOnlyList<double> positions, int bins)
    {
        ArgumentNullException.ThrowIfNull(positions);
        return CycleClock.OfFrames(positions.Select(p => ((double?)(p / bins % 1), 0.0))).Select(static c => c.Duration.TotalSeconds);
    }

    /// <summary>d(t) on features [n, cells, C] (CPU): the mean over cells of each frame's distance to the reference pose.</summary>
    private static double[] PoseDistances(Tensor features, float[] referencePose)
    {
        var frames = (int)features.shape[0];
        var width = (int)(features.shape[1] * features.shape[2]);
        var flat = features.data<float>().ToArray();
        var rows = new List<float[]>(frames + 1) { referencePose };
        rows.AddRange(Enumerable.Range(0, frames).Select(i => flat.AsSpan(i * width, width).ToArray()));
        return FrameDistance.Compute(rows, CycleFeatures.Channels).Skip(1).ToArray();
    }
}
