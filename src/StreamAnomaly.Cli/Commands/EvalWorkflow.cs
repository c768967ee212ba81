using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>Which bundle to evaluate on which labelled clips, and where the report goes.</summary>
/// <param name="Bundle">Model bundle file.</param>
/// <param name="Data">Folder of labelled clips.</param>
/// <param name="Out">Report folder.</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="Masking">Temporal bundles only: none, learned, ideal or all (null = all).</param>
internal sealed record EvalRequest(string Bundle, string Data, string Out, string Device, string? Masking = null);

/// <summary>
/// Scores every frame of a labelled clip folder with a bundle and writes the report
/// (scores.csv, metrics.json, roc.png, timelines/). Works on any folder in the interchange format.
/// </summary>
internal static class EvalWorkflow
{
    /// <summary>Frames scored per detector call: bounds memory whatever the clip length.</summary>
    private const int Chunk = 64;

    public static EvaluationMetrics Run(EvalRequest request)
    {
        var device = TorchDevices.Parse(request.Device);
        using var loaded = DetectorCatalog.Load(request.Bundle, device);
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
        using var output = new OutputFolder(request.Out);

        var stopwatch = Stopwatch.StartNew();
        var scored = ConsoleProgress.Run("scoring", total, update =>
        {
            var rows = new List<ScoredFrame>(total);
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
                update(rows.Count, $"scoring {clip.Name}");

                void Score(List<Frame> frames, int start)
                {
                    if (frames.Count == 0)
                    {
                        return;
                    }

                    var scores = loaded.Detector.ScoreSequence(frames);
                    for (var i = 0; i < scores.Count; i++)
                    {
                        var label = clip.Labels![start + i];
                        var raw = scores[i].RawScore;
                        rows.Add(new ScoredFrame(clip.Name, start + i, raw, loaded.Calibration.Normalize(raw), label.Label, label.Category));
                    }
                }
            }

            return rows;
        });
        var framesPerSecond = scored.Count / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);

        var metrics = EvaluationReport.Compute(scored, loaded.Manifest.Detector, loaded.Manifest.ModelVersion, loaded.Calibration, framesPerSecond);
        EvaluationReport.Write(output.StagingPath, scored, metrics);
        output.Commit();

        PrintTables(metrics);
        AnsiConsole.MarkupLine($"{metrics.Frames} frames from {metrics.Clips} clips at {framesPerSecond:F1} frames/s; report [bold]{Markup.Escape(output.FinalPath)}[/]");
        return metrics;
    }

    /// <summary>The seed-000 accuracy table (categories as rows, so any number fits) and the seed-002 detection row.</summary>
    public static void PrintTables(EvaluationMetrics metrics) => PrintTables(metrics, [metrics]);

    /// <summary>The accuracy table of <paramref name="metrics"/> and one seed-002 detection row per entry of <paramref name="rows"/>.</summary>
    public static void PrintTables(EvaluationMetrics metrics, IReadOnlyList<EvaluationMetrics> rows)
    {
        var accuracy = new Table().Title("accuracy % per category (seed-000 table, one column per model)")
            .AddColumns("category", "frames", metrics.Detector);
        accuracy.AddRow("all", metrics.Frames.ToString(CultureInfo.InvariantCulture), Percent(metrics.Accuracy));
        foreach (var category in metrics.Categories)
        {
            accuracy.AddRow(Markup.Escape(category.Category), category.Frames.ToString(CultureInfo.InvariantCulture), Percent(category.Accuracy));
        }

        AnsiConsole.Write(accuracy);

        var detection = new Table().Title("frame-level detection (seed-002 layout)").AddColumns("model", "TP", "FN", "FP", "AUROC", "AUPR");
        foreach (var row in rows)
        {
            detection.AddRow(
                Markup.Escape(row.Detector),
                row.Tp.ToString(CultureInfo.InvariantCulture),
                row.Fn.ToString(CultureInfo.InvariantCulture),
                row.Fp.ToString(CultureInfo.InvariantCulture),
                row.Auroc.ToString("F3", CultureInfo.InvariantCulture),
                row.Aupr.ToString("F3", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(detection);
    }

    private static string Percent(double value) => (value * 100).ToString("F2", CultureInfo.InvariantCulture);
}
