using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Scene;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>Which bundle to evaluate on which labelled clips, and where the report goes.</summary>
/// <param name="Bundle">Model bundle file.</param>
/// <param name="Data">Folder of labelled clips.</param>
/// <param name="Out">Report folder.</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="Masking">Temporal bundles only: none, learned, ideal or all (null = all).</param>
/// <param name="Ablation">Temporal bundles only: the learned mask's Eigen-CAM ablations instead of the usual report.</param>
/// <param name="Validation">With <paramref name="Ablation"/>: folder of normal clips to calibrate every setting on (null = DATA/../val).</param>
/// <param name="TrueMasks">Integrated bundles only: add the <see cref="TrueMasksColumn"/> column.</param>
internal sealed record EvalRequest(string Bundle, string Data, string Out, string Device, string? Masking = null, bool Ablation = false, string? Validation = null, bool TrueMasks = false)
{
    /// <summary>
    /// The integrated CNN's default scoring with the clips' true normal-object masks in place of the
    /// segmentation head's: what the scoring reaches with a perfect head. Its threshold is the plain
    /// autoencoder's, since on a frame without a normal object the two scores are the same number
    /// (exact when the bundle was calibrated on background frames only, the paper's protocol).
    /// </summary>
    public const string TrueMasksColumn = "integrated, true masks";
}

/// <summary>
/// Scores every frame of a labelled clip folder with a bundle and writes the report
/// (scores.csv, metrics.json, roc.png, timelines/). Works on any folder in the interchange format.
/// </summary>
internal static class EvalWorkflow
{
    /// <summary>Frames scored per detector call: bounds memory whatever the clip length.</summary>
    private const int Chunk = 64;

    /// <summary>The <c>eval</c> command: the report of <see cref="Run"/>, or with <c>--ablation</c> the temporal mask ablation.</summary>
    public static void Execute(EvalRequest request)
    {
        if (!request.Ablation)
        {
            if (request.Validation is not null)
            {
                throw new ArgumentException("--val applies to eval --ablation only (the bundle is already calibrated)");
            }

            Run(request);
            return;
        }

        if (request.Masking is not null || request.TrueMasks)
        {
            throw new ArgumentException($"--ablation varies the learned mask only: leave out {(request.TrueMasks ? "--true-masks" : "--masking")}");
        }

        var device = TorchDevices.Parse(request.Device);
        using var loaded = DetectorCatalog.Load(request.Bundle, device);
        if (loaded.Detector is not TemporalDetector temporal)
        {
            throw new ArgumentException($"--ablation applies to temporal bundles only, this bundle is '{loaded.Manifest.Detector}'");
        }

        TemporalAblationWorkflow.Run(request, temporal, loaded.Manifest);
    }

    public static EvaluationMetrics Run(EvalRequest request)
    {
        if (request.Ablation)
        {
            throw new InvalidOperationException("an ablation has no single report: run it through Execute");
        }

        var device = TorchDevices.Parse(request.Device);
        using var loaded = DetectorCatalog.Load(request.Bundle, device);
        if (request.TrueMasks && loaded.Detector is not IntegratedDetector)
        {
            throw new ArgumentException($"--true-masks applies to integrated bundles only, this bundle is '{loaded.Manifest.Detector}'");
        }

        if (loaded.Detector is TemporalDetector temporal)
        {
            return TemporalEvalWorkflow.Run(request, temporal, loaded.Manifest);
        }

        if (request.Masking is not null)
        {
            throw new ArgumentException($"--masking applies to temporal bundles only, this bundle is '{loaded.Manifest.Detector}'");
        }

        var clips = ClipDataset.Open(request.Data, requireLabels: true);
        var total = clips.Sum(c => c.Labels!.Count);
        var variants = Variants(loaded);
        var truth = request.TrueMasks ? TrueMaskScorer(loaded, clips) : null;
        if (truth is not null)
        {
            variants = [.. variants, (EvalRequest.TrueMasksColumn, loaded.Manifest.VariantCalibrations![AutoencoderVariant])];
        }

        using var output = new OutputFolder(request.Out);

        var stopwatch = Stopwatch.StartNew();
        var scored = ConsoleProgress.Run("scoring", total, update =>
        {
            var rows = variants.Select(_ => new List<ScoredFrame>(total)).ToArray();
            foreach (var clip in clips)
            {
                var pending = new List<Frame>(Chunk);
                var first = 0;
                foreach (var frame in clip.ReadFrames())
                {
                    pending.Add(frame);
                    if (pending.Count == Chunk)
                    {
                        Score(pending, first);
                        first += pending.Count;
                        pending.Clear();
                    }
                }

                Score(pending, first);
                update(rows[0].Count, $"scoring {clip.Name}");

                void Score(List<Frame> frames, int start)
                {
                    if (frames.Count == 0)
                    {
                        return;
                    }

                    var perVariant = loaded.Detector is IVariantScorer scorer ? scorer.ScoreVariants(frames) : [loaded.Detector.ScoreSequence(frames)];
                    if (truth is not null)
                    {
                        var masks = frames.Select((_, i) => clip.ReadMask(IntegratedTrainWorkflow.NormalObjectCategory, start + i)!).ToArray();
                        perVariant = [.. perVariant, truth.ScoreVariants(frames, [IntegratedScoring.Table5[0]], masks)[0]];
                    }

                    for (var v = 0; v < variants.Count; v++)
                    {
                        for (var i = 0; i < frames.Count; i++)
                        {
                            var label = clip.Labels![start + i];
                            var raw = perVariant[v][i].RawScore;
                            rows[v].Add(new ScoredFrame(clip.Name, start + i, raw, variants[v].Calibration.Normalize(raw), label.Label, label.Category));
                        }
                    }
                }
            }

            return rows;
        });
        var framesPerSecond = scored[0].Count / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);

        var metrics = variants
            .Select((variant, v) => EvaluationReport.Compute(scored[v], variant.Name, loaded.Manifest.ModelVersion, variant.Calibration, framesPerSecond))
            .ToArray();
        EvaluationReport.Write(output.StagingPath, scored[0], metrics);
        output.Commit();

        PrintTables(metrics);
        AnsiConsole.MarkupLine($"{metrics[0].Frames} frames from {metrics[0].Clips} clips at {framesPerSecond:F1} frames/s; report [bold]{Markup.Escape(output.FinalPath)}[/]");
        return metrics[0];
    }

    private const string AutoencoderVariant = "autoencoder";

    /// <summary>The detector that scores the <see cref="EvalRequest.TrueMasksColumn"/> column, after checking it can.</summary>
    private static IntegratedDetector TrueMaskScorer(LoadedDetector loaded, IReadOnlyList<Clip> clips)
    {
        var integrated = (IntegratedDetector)loaded.Detector;
        if (loaded.Manifest.VariantCalibrations?.ContainsKey(AutoencoderVariant) != true)
        {
            throw new InvalidDataFileException(loaded.Manifest.Detector, $"bundle has no calibration for scoring variant '{AutoencoderVariant}'");
        }

        if (clips.FirstOrDefault(c => c.ReadMask(IntegratedTrainWorkflow.NormalObjectCategory, 0) is null) is { } unmasked)
        {
            throw new InvalidDataFileException(unmasked.MediaPath, $"--true-masks needs every clip's {IntegratedTrainWorkflow.NormalObjectCategory} masks (CLIP.masks/{IntegratedTrainWorkflow.NormalObjectCategory}/)");
        }

        return integrated;
    }

    /// <summary>The scoring variants to report, each with its calibration from the bundle (default first).</summary>
    private static IReadOnlyList<(string Name, ScoreCalibration Calibration)> Variants(LoadedDetector loaded)
    {
        if (loaded.Detector is not IVariantScorer scorer)
        {
            return [(loaded.Manifest.Detector, loaded.Calibration)];
        }

        var calibrations = loaded.Manifest.VariantCalibrations ?? new Dictionary<string, ScoreCalibration>();
        return scorer.Variants
            .Select((name, v) => (name, v == 0 ? loaded.Calibration
                : calibrations.TryGetValue(name, out var c) ? c
                : throw new InvalidDataFileException(loaded.Manifest.Detector, $"bundle has no calibration for scoring variant '{name}'")))
            .ToArray();
    }

    /// <summary>
    /// The seed-000 accuracy table (categories as rows, one column per model or scoring variant),
    /// the seed-002 detection rows (one per variant) and the AUROC of each anomaly category.
    /// </summary>
    public static void PrintTables(IReadOnlyList<EvaluationMetrics> metrics)
    {
        var accuracy = new Table().Title("accuracy % per category (seed-000 table)").AddColumns("category", "frames");
        foreach (var m in metrics)
        {
            accuracy.AddColumn(Markup.Escape(m.Detector));
        }

        accuracy.AddRow(["all", metrics[0].Frames.ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => Percent(m.Accuracy))]);
        if (PatchCategories(metrics[0]) is { Length: > 0 } patches)
        {
            // The paper's "all" column: the four pasted-patch categories only.
            accuracy.AddRow(["all seed-000", patches.Sum(c => c.Frames).ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => Percent(PatchCategories(m).Sum(c => c.Correct) / (double)PatchCategories(m).Sum(c => c.Frames)))]);
        }

        for (var c = 0; c < metrics[0].Categories.Count; c++)
        {
            var category = metrics[0].Categories[c];
            accuracy.AddRow([Markup.Escape(category.Category), category.Frames.ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => Percent(m.Categories[c].Accuracy))]);
        }

        AnsiConsole.Write(accuracy);

        var detection = new Table().Title("frame-level detection (seed-002 table)").AddColumns("model", "TP", "FN", "FP", "FP @ 99 % recall", "AUROC", "AUPR");
        foreach (var m in metrics)
        {
            detection.AddRow(
                Markup.Escape(m.Detector),
                m.Tp.ToString(CultureInfo.InvariantCulture),
                m.Fn.ToString(CultureInfo.InvariantCulture),
                m.Fp.ToString(CultureInfo.InvariantCulture),
                m.FpAtRecall99?.ToString(CultureInfo.InvariantCulture) ?? "-",
                m.Auroc.ToString("F3", CultureInfo.InvariantCulture),
                m.Aupr.ToString("F3", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(detection);

        if (metrics[0].CategoryAurocs.Count > 0)
        {
            var ranking = new Table().Title("AUROC per anomaly category (its frames vs every normal frame)").AddColumns("category", "frames");
            foreach (var m in metrics)
            {
                ranking.AddColumn(Markup.Escape(m.Detector));
            }

            for (var c = 0; c < metrics[0].CategoryAurocs.Count; c++)
            {
                var category = metrics[0].CategoryAurocs[c];
                ranking.AddRow([Markup.Escape(category.Category), category.AnomalousFrames.ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => m.CategoryAurocs[c].Auroc.ToString("F3", CultureInfo.InvariantCulture))]);
            }

            AnsiConsole.Write(ranking);
        }
    }

    private static CategoryAccuracy[] PatchCategories(EvaluationMetrics metrics) =>
        metrics.Categories.Where(c => Enum.GetValues<PatchCategory>().Any(p => PatchPaster.NameOf(p) == c.Category)).ToArray();

    private static string Percent(double value) => (value * 100).ToString("F2", CultureInfo.InvariantCulture);
}
