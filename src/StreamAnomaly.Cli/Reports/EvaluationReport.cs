using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Cli.Reports;

/// <summary>One scored frame of an evaluation (one row of scores.csv).</summary>
/// <param name="Clip">Clip name.</param>
/// <param name="Frame">Frame index in the clip.</param>
/// <param name="RawScore">The detector's raw score.</param>
/// <param name="Score">Calibrated score in [0, 1]; &gt;= 0.5 means anomalous.</param>
/// <param name="Label">Ground truth: 0 normal, 1 anomalous.</param>
/// <param name="Category">Ground-truth category.</param>
internal sealed record ScoredFrame(string Clip, int Frame, double RawScore, double Score, int Label, string Category);

/// <summary>The figures of one evaluation run (metrics.json).</summary>
internal sealed record EvaluationMetrics(
    string Detector,
    string ModelVersion,
    int Frames,
    int Clips,
    double Threshold,
    double RawThreshold,
    double Auroc,
    double Aupr,
    int Tp,
    int Fn,
    int Fp,
    int Tn,
    int? FpAtRecall99,
    double Accuracy,
    IReadOnlyList<CategoryAccuracy> Categories,
    double FramesPerSecond)
{
    /// <summary>AUROC of each anomaly category's frames against every normal frame (raw scores).</summary>
    public IReadOnlyList<CategoryAuroc> CategoryAurocs { get; init; } = [];

    /// <summary>The same figures for the detector's other scoring variants (ablation rows), if any.</summary>
    public IReadOnlyList<EvaluationMetrics> Variants { get; init; } = [];

    /// <summary>Pixel AUROC of the anomaly maps against the clips' exact anomaly masks (<see cref="PixelMetrics"/>); null without masks.</summary>
    public double? PixelAuroc { get; init; }

    /// <summary>Normalised area under the per-region-overlap curve up to 30 % false-positive rate (<see cref="PixelMetrics.Pro"/>); null without masks.</summary>
    public double? Pro { get; init; }

    /// <summary>Pixel AUROC of each anomaly category (<see cref="PixelMetrics.CategoryAurocs"/>); empty without masks.</summary>
    public IReadOnlyDictionary<string, double?> CategoryPixelAurocs { get; init; } = new Dictionary<string, double?>();

    /// <summary>Seconds the bundle's detector took to fit (its training facts' <c>trainSeconds</c>); null when unknown.</summary>
    public double? FitSeconds { get; init; }
}

/// <summary>
/// Computes the metrics of scored frames and writes the report files. Ranking metrics (AUROC,
/// AUPR) use raw scores, since calibrated scores are clamped to [0, 1] and would tie at the ends;
/// the decision (TP/FN/FP, accuracies) is calibrated score &gt;= 0.5, i.e. raw &gt;= threshold.
/// FpAtRecall99 needs no calibration: false positives at the strictest raw threshold that finds 99 % of
/// the anomalous frames (null without anomalous frames).
/// </summary>
internal static class EvaluationReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Recall at which <see cref="EvaluationMetrics.FpAtRecall99"/> counts false positives (the seed-002 target's).</summary>
    public const double TargetRecall = 0.99;

    public static EvaluationMetrics Compute(IReadOnlyList<ScoredFrame> frames, string detector, string modelVersion, ScoreCalibration calibration, double framesPerSecond)
    {
        var raw = frames.Select(f => f.RawScore).ToArray();
        var calibrated = frames.Select(f => f.Score).ToArray();
        var labels = frames.Select(f => f.Label).ToArray();
        var categories = frames.Select(f => f.Category).ToArray();
        var confusion = BinaryMetrics.Confusion(calibrated, labels, ScoreCalibration.NormalizedThreshold);
        return new EvaluationMetrics(
            detector,
            modelVersion,
            frames.Count,
            frames.Select(f => f.Clip).Distinct().Count(),
            ScoreCalibration.NormalizedThreshold,
            calibration.Threshold,
            BinaryMetrics.Auroc(raw, labels),
            BinaryMetrics.AveragePrecision(raw, labels),
            confusion.TruePositives,
            confusion.FalseNegatives,
            confusion.FalsePositives,
            confusion.TrueNegatives,
            labels.Contains(1) ? BinaryMetrics.FalsePositivesAtRecall(raw, labels, TargetRecall) : null,
            confusion.Accuracy,
            CategoryMetrics.AccuracyByCategory(calibrated, labels, categories, ScoreCalibration.NormalizedThreshold),
            framesPerSecond)
        {
            CategoryAurocs = CategoryMetrics.AurocByCategory(raw, labels, categories),
        };
    }

    /// <summary>
    /// Writes scores.csv, metrics.json (the default variant, other variants under "variants"),
    /// roc.png and timelines/CLIP.png into <paramref name="folder"/>; files show the default variant.
    /// </summary>
    public static void Write(string folder, IReadOnlyList<ScoredFrame> frames, IReadOnlyList<EvaluationMetrics> variants)
    {
        var metrics = variants[0] with { Variants = variants.Skip(1).ToArray() };
        using (var csv = CsvWriter.ToFile(Path.Combine(folder, "scores.csv"), CsvWriterOptions.Default with { NewLine = "\n" }))
        {
            csv.WriteRecord(["clip", "frame", "score", "raw_score", "label", "category"]);
            foreach (var f in frames)
            {
                csv.WriteRecord([
                    f.Clip,
                    f.Frame.ToString(CultureInfo.InvariantCulture),
                    f.Score.ToString("F6", CultureInfo.InvariantCulture),
                    f.RawScore.ToString("R", CultureInfo.InvariantCulture),
                    f.Label.ToString(CultureInfo.InvariantCulture),
                    f.Category]);
            }

            csv.Flush();
        }

        File.WriteAllText(Path.Combine(folder, "metrics.json"), JsonSerializer.Serialize(metrics, Json));
        var raw = frames.Select(f => f.RawScore).ToArray();
        var labels = frames.Select(f => f.Label).ToArray();
        if (labels.Distinct().Count() == 2)
        {
            Plots.Roc(Path.Combine(folder, "roc.png"), BinaryMetrics.RocCurve(raw, labels), metrics.Auroc, metrics.Detector);
        }

        var timelines = Directory.CreateDirectory(Path.Combine(folder, "timelines")).FullName;
        foreach (var clip in frames.GroupBy(f => f.Clip))
        {
            Plots.Timeline(Path.Combine(timelines, clip.Key + ".png"), clip.Key, clip.ToArray());
        }
    }

    /// <summary>Column titles of the comparison table (<see cref="ComparisonRows"/>).</summary>
    public static IReadOnlyList<string> ComparisonColumns { get; } = ["detector", "AUROC", "AUPR", "FP @ 99 % recall", "pixel AUROC", "PRO", "fit s", "frames/s"];

    /// <summary>One row of text per detector: its frame and pixel figures, fit seconds and scoring rate ("-" where it has none).</summary>
    public static IEnumerable<string[]> ComparisonRows(IReadOnlyList<EvaluationMetrics> metrics) =>
        metrics.Select(static m => new[]
        {
            m.Detector,
            Fixed(m.Auroc, 3),
            Fixed(m.Aupr, 3),
            m.FpAtRecall99?.ToString(CultureInfo.InvariantCulture) ?? "-",
            Fixed(m.PixelAuroc, 3),
            Fixed(m.Pro, 3),
            Fixed(m.FitSeconds, 1),
            Fixed(m.FramesPerSecond, 1),
        });

    /// <summary>
    /// Writes the comparison of several detectors scored on the same frames: comparison.md (the
    /// side-by-side table and the AUROC of every anomaly category, frame / pixel), comparison.csv
    /// (the same figures, one row per detector) and roc.png (one curve per detector).
    /// </summary>
    public static void WriteComparison(string folder, IReadOnlyList<IReadOnlyList<ScoredFrame>> frames, IReadOnlyList<EvaluationMetrics> metrics)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(metrics);
        var categories = metrics[0].CategoryAurocs;
        List<string> markdown =
        [
            $"Detectors side by side on {metrics[0].Frames} frames of {metrics[0].Clips} clips (each scored alone; frames/s of its scoring).",
            string.Empty,
            MarkdownRow(ComparisonColumns),
            MarkdownRow(ComparisonColumns.Select(static _ => "---")),
            .. ComparisonRows(metrics).Select(static r => MarkdownRow(r)),
        ];
        if (categories.Count > 0)
        {
            markdown.AddRange([
                string.Empty,
                "AUROC per anomaly category (its frames against every normal frame; frame / pixel where the detector has a map and the clips masks):",
                string.Empty,
                MarkdownRow(["category", "frames", .. metrics.Select(static m => m.Detector)]),
                MarkdownRow(Enumerable.Repeat("---", metrics.Count + 2)),
                .. categories.Select(c => MarkdownRow([c.Category, c.AnomalousFrames.ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => CategoryCell(m, c.Category))])),
            ]);
        }

        File.WriteAllLines(Path.Combine(folder, "comparison.md"), markdown);

        using (var csv = CsvWriter.ToFile(Path.Combine(folder, "comparison.csv"), CsvWriterOptions.Default with { NewLine = "\n" }))
        {
            csv.WriteRecord(["detector", "auroc", "aupr", "fp_at_recall99", "pixel_auroc", "pro", "fit_seconds", "frames_per_second", .. categories.Select(static c => "auroc:" + c.Category)]);
            foreach (var m in metrics)
            {
                csv.WriteRecord([
                    m.Detector,
                    Invariant(m.Auroc),
                    Invariant(m.Aupr),
                    m.FpAtRecall99?.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
                    Invariant(m.PixelAuroc),
                    Invariant(m.Pro),
                    Invariant(m.FitSeconds),
                    Invariant(m.FramesPerSecond),
                    .. categories.Select(c => Invariant(m.CategoryAurocs.FirstOrDefault(a => a.Category == c.Category)?.Auroc)),
                ]);
            }

            csv.Flush();
        }

        var curves = frames.Zip(metrics, static (f, m) => (m.Detector, Curve: BinaryMetrics.RocCurve(f.Select(static x => x.RawScore).ToArray(), f.Select(static x => x.Label).ToArray()), m.Auroc)).ToArray();
        if (frames[0].Select(static f => f.Label).Distinct().Count() == 2)
        {
            Plots.Roc(Path.Combine(folder, "roc.png"), curves);
        }
    }

    private static string CategoryCell(EvaluationMetrics metrics, string category)
    {
        var frame = Fixed(metrics.CategoryAurocs.FirstOrDefault(a => a.Category == category)?.Auroc, 3);
        return metrics.CategoryPixelAurocs.GetValueOrDefault(category) is { } pixel ? $"{frame} / {Fixed(pixel, 3)}" : frame;
    }

    private static string MarkdownRow(IEnumerable<string> cells) => "| " + string.Join(" | ", cells.Select(static c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |";

    private static string Fixed(double? value, int decimals) => value?.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) ?? "-";

    private static string Invariant(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? string.Empty;
}
