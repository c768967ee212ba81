using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Cycle;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>
/// PatchCore's catalog entry. Fitting has no training loop: the usable frames stream through the
/// frozen backbone a chunk of <see cref="PatchCoreOptions.ChunkFrames"/> at a time, each chunk's
/// patches are reduced to <see cref="PatchCoreOptions.CoresetFraction"/> of themselves by greedy
/// coreset selection, and the bank is the union of those coresets (one chunk: plain PatchCore).
/// With a phase weight the machine cycle is learned first (<see cref="CycleDefinition.Learn"/>) and
/// every patch carries its frame's phase and its place (<see cref="PatchContext"/>).
/// </summary>
public sealed class PatchCoreDefinition : DetectorDefinition<PatchCoreOptions>
{
    /// <summary>The stage name its progress reports carry (they have no loss: NaN).</summary>
    public const string MemoryBankStage = "memory bank";

    public override string Name => PatchCoreDetector.Name;

    public override string Summary => "PatchCore: nearest-neighbour distance of pretrained ImageNet ResNet-18 patch features (layer2 + layer3) to a coreset of normal patches";

    public override DetectorOptions Quick => new PatchCoreOptions { Size = 64, CoresetFraction = 0.1, BlurSigma = 2 };

    protected override FittedDetector Fit(PatchCoreOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var backbone = PretrainedResNet18.Load();
        LearnedCycle? cycle = null;
        PatchContext? patchContext = null;
        try
        {
            backbone.to(context.Device);
            backbone.eval();
            var stopwatch = Stopwatch.StartNew();
            if (options.PhaseWeight > 0)
            {
                cycle = CycleDefinition.Learn(backbone, clips, frames, options.Size, new CycleOptions().MinPeriod, context);
            }

            using var generator = new Generator((ulong)context.Seed, context.Device);
            var kept = new List<Tensor>();
            var (trainFrames, trainPatches) = (0, 0L);
            // One cheap pass to count them, so the progress bar knows its end; frames are decoded
            // again chunk by chunk below and never held all at once.
            var chunks = (int)Math.Ceiling(frames.Frames(clips).Count() / (double)options.ChunkFrames);
            foreach (var (chunk, index) in frames.Frames(clips).Chunk(options.ChunkFrames).Select((c, i) => (c, i)))
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var maps = chunk.Chunk(PatchCoreDetector.BatchSize)
                    .Select(batch => PatchFeatures.OfWithLayer3(backbone, backbone.Preprocessing.FromFrames(batch, options.Size, options.Size, context.Device), options.Neighbourhood))
                    .ToArray();
                Tensor Plain() => cat(maps.Select(static m => PatchFeatures.Rows(m.Patches)).ToArray(), 0);
                Tensor rows;
                if (options.HasContext)
                {
                    // The spread that scales the context coordinates comes from the first chunk's features.
                    patchContext ??= new PatchContext(cycle?.Template, PatchContext.SpreadOf(Plain()), options);
                    rows = cat(maps.Select(m => patchContext.Rows(m.Patches, m.Layer3)).ToArray(), 0);
                }
                else
                {
                    rows = Plain();
                }

                var count = (int)Math.Clamp(Math.Round(options.CoresetFraction * rows.shape[0]), 1, rows.shape[0]);
                var chosen = Coreset.Greedy(rows, count, options.Projection, generator);
                kept.Add(rows.index_select(0, tensor(chosen, device: rows.device)).MoveToOuterDisposeScope());
                (trainFrames, trainPatches) = (trainFrames + chunk.Length, trainPatches + rows.shape[0]);
                context.Progress?.Report(new TrainingProgress(MemoryBankStage, 1, 1, index + 1, chunks, double.NaN));
            }

            if (kept.Count == 0)
            {
                throw new ArgumentException($"no {frames} to build the memory bank from");
            }

            var bank = new MemoryBank(cat(kept, 0), patchContext);
            kept.ForEach(t => t.Dispose());
            var detector = new PatchCoreDetector(backbone, bank, options, context.Device);
            var facts = new Dictionary<string, string>
            {
                ["trainFrames"] = trainFrames.ToString(CultureInfo.InvariantCulture),
                ["trainPatches"] = trainPatches.ToString(CultureInfo.InvariantCulture),
                ["bankPatches"] = detector.BankPatches.ToString(CultureInfo.InvariantCulture),
                ["bankMegabytes"] = (detector.BankPatches * PatchCoreDetector.Dimension(options) * 4 / 1e6).ToString("F1", CultureInfo.InvariantCulture),
                ["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
            };
            if (patchContext is not null)
            {
                facts["featureSpread"] = patchContext.Spread.ToString("F3", CultureInfo.InvariantCulture);
            }

            if (cycle is not null)
            {
                facts["periodFrames"] = cycle.Cycle.Period.ToString("F2", CultureInfo.InvariantCulture);
                facts["phaseBins"] = cycle.Template.Bins.ToString(CultureInfo.InvariantCulture);
            }

            return new FittedDetector(detector, facts);
        }
        catch
        {
            if (patchContext is null)
            {
                cycle?.Template.Dispose();
            }

            patchContext?.Dispose();
            backbone.Dispose();
            throw;
        }
    }

    protected override IBundledDetector Load(PatchCoreOptions options, byte[] weights, JsonObject? state, string path, Device device) =>
        PatchCoreDetector.Load(options, weights, state, path, device);
}
