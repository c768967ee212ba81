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
}
