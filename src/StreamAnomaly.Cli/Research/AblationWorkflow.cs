using System.Diagnostics;
using System.Globalization;
using CsvHelper;
using Spectre.Console;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Temporal;

namespace StreamAnomaly.Cli.Research;

/// <summary>Which temporal bundle to ablate, on which clips, calibrated on which normal clips, and where the report goes.</summary>
internal sealed record AblationRequest(string Bundle, string Data, string Out, string? Validation = null, string Device = "cpu");

/// <summary>One setting of the ablation: the group it varies, the value it gives that group, the whole Eigen-CAM settings.</summary>
internal sealed record AblationSetting(string Group, string Value, CamSettings Cam);

/// <summary>The figures of one ablation setting (one row of ablation.csv).</summary>
/// <param name="Setting">What was varied.</param>
/// <param name="Metrics">Detection figures on the test clips with this setting's own calibration.</param>
/// <param name="MaskIoU">Mean IoU of the learned keep-mask against roi.png over the frames of clips that have one (null: none has).</param>
internal sealed record AblationRow(AblationSetting Setting, EvaluationMetrics Metrics, double? MaskIoU);

/// <summary>
/// <c>research ablation</c> of a temporal bundle: the background-masking paper's three ablations of the
/// learned mask (SEEDS.md section 2): Eigen-CAM layers (last 1 / 2 / 4 conv layers), threshold
/// (0 / 0.1 / 0.2) and temporal window (3 / 7 / 11 frames). Each group varies ONE setting and keeps the
/// bundle's other two. Nothing is retrained: only the mask changes, so every setting gets its own
/// calibration, fitted on normal validation runs scored whole (as training does) at the bundle
/// calibration's percentile. Each test clip is scored whole once for all settings
/// (<see cref="TemporalDetector.ScoreLearnedVariants"/>).
/// </summary>
/// <remarks>
/// Validation runs are the runs of normal frames of every clip of <c>--val</c> (default <c>DATA/../val</c>);
/// the bundle does not record a training <c>--category</c>, so every normal frame counts. The report folder
/// gets <c>ablation.csv</c>, one row per setting.
/// </remarks>
internal static class AblationWorkflow
{
    /// <summary>The paper's layer counts (last k conv layers of R3D-18).</summary>
    public static readonly IReadOnlyList<int> Layers = [1, 2, 4];

    /// <summary>The paper's Eigen-CAM thresholds.</summary>
    public static readonly IReadOnlyList<double> Thresholds = [0.0, 0.1, 0.2];

    /// <summary>The paper's temporal windows, frames.</summary>
    public static readonly IReadOnlyList<int> Windows = [3, 7, 11];

    /// <summary>The columns of ablation.csv.</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["group", "value", "layers", "threshold", "window", "raw_threshold", "tp", "fn", "fp", "tn", "fp_at_recall99", "auroc", "aupr", "mask_iou"];

    /// <summary>The nine settings: each group's three values, the other two settings from <paramref name="bundle"/>.</summary>
    public static IReadOnlyList<AblationSetting> Settings(CamSettings bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return
        [
            .. Layers.Select(k => new AblationSetting("layers", Text(k), bundle with { Layers = k })),
            .. Thresholds.Select(t => new AblationSetting("threshold", Text(t), bundle with { Threshold = t })),
            .. Windows.Select(w => new AblationSetting("window", Text(w), bundle with { Window = w })),
        ];
    }

    public static IReadOnlyList<AblationRow> Run(AblationRequest request)
    {
        using var loaded = DetectorCatalog.Load(request.Bundle, TorchDevices.Parse(request.Device));
        if (loaded.Detector is not TemporalDetector detector)
        {
            throw new ArgumentException($"{request.Bundle}: the ablation varies the temporal detector's learned mask; this bundle is '{loaded.Manifest.Detector}'");
        }

        var manifest = loaded.Manifest;
        var own = detector.Options.Cam;
        var settings = Settings(own);
        var cams = settings.Select(s => s.Cam).ToArray();
        var clips = ClipDataset.Open(request.Data, requireLabels: true);
        var valFolder = DetectorArguments.ValidationFolder(request.Data, request.Validation);
        var validation = TrainingFrames.AllNormal.Runs(ClipDataset.Open(valFolder, requireLabels: false), 1);
        if (validation.Count == 0)
        {
            throw new InvalidDataFileException(valFolder, "no normal validation frames to calibrate on");
        }

        var percentile = loaded.Calibration.Percentile;
        var validationFrames = validation.Sum(r => r.Frames.Count);
        var total = clips.Sum(c => c.Labels!.Count);
        AnsiConsole.MarkupLine(
            $"ablation of the learned mask (bundle: last {own.Layers} conv layers, threshold {Text(own.Threshold)}, window {own.Window}): " +
            $"{settings.Count} settings, each calibrated at the {Text(percentile)}th percentile of {validationFrames} normal frames from {Markup.Escape(valFolder)}");
        using var output = new OutputFolder(request.Out, "research ablation", request.Data, valFolder);

        var stopwatch = Stopwatch.StartNew();
        var calibrations = ConsoleProgress.Run("calibrating", validationFrames, update =>
        {
            var raw = cams.Select(_ => new List<double>(validationFrames)).ToArray();
            var done = 0;
            foreach (var run in validation)
            {
                var scores = detector.ScoreLearnedVariants(run.Frames, cams);
                for (var s = 0; s < cams.Length; s++)
                {
                    raw[s].AddRange(scores[s].Select(f => f.RawScore));
                }

                done += run.Frames.Count;
                update(done, $"calibrating on {run.Clip.Name}");
            }

            return raw.Select(r => ScoreCalibration.Fit(r, percentile)).ToArray();
        });
        var calibrationSeconds = stopwatch.Elapsed.TotalSeconds;

        stopwatch.Restart();
        var ious = cams.Select(_ => new List<double>()).ToArray();
        var rows = ConsoleProgress.Run("scoring", total, update =>
        {
            var result = cams.Select(_ => new List<ScoredFrame>(total)).ToArray();
            var done = 0;
            foreach (var clip in clips)
            {
                var frames = clip.ReadFrames().ToList();
                var roi = clip.ReadRoi()?.Resized(detector.Options.Size, detector.Options.Size);
                var scores = detector.ScoreLearnedVariants(frames, cams);
                for (var s = 0; s < cams.Length; s++)
                {
                    for (var i = 0; i < frames.Count; i++)
                    {
                        var label = clip.Labels![i];
                        var raw = scores[s][i].RawScore;
                        result[s].Add(new ScoredFrame(clip.Name, i, raw, calibrations[s].Normalize(raw), label.Label, label.Category));
                    }

                    if (roi is not null)
                    {
                        // the learned mask keeps what it does not ignore; the region of interest is the ideal keep-mask
                        ious[s].AddRange(scores[s].Select(f => f.Ignored).OfType<BinaryMask>()
                            .Select(ignored => MaskMetrics.IoU(ignored.Inverted(), roi)));
                    }
                }

                done += frames.Count;
                update(done, $"scoring {clip.Name}");
            }

            return result;
        });
        var scoringSeconds = stopwatch.Elapsed.TotalSeconds;
        var framesPerSecond = total / Math.Max(scoringSeconds, 1e-9);

        var table = settings
            .Select((setting, s) => new AblationRow(
                setting,
                EvaluationReport.Compute(rows[s], $"{manifest.Detector}/{setting.Group}={setting.Value}", manifest.ModelVersion, calibrations[s], framesPerSecond),
                ious[s].Count > 0 ? ious[s].Average() : null))
            .ToArray();
        Write(output.Stage("ablation.csv"), table);
        output.Commit();

        Print(table, own);
        AnsiConsole.MarkupLine(
            $"{total} frames from {clips.Count} clips under {settings.Count} mask settings at {framesPerSecond:F1} frames/s (whole clips, one autoencoder and one R3D-18 pass per clip); " +
            $"calibration {validationFrames / Math.Max(calibrationSeconds, 1e-9):F1} frames/s; report [bold]{Markup.Escape(output.FinalPath)}[/]");
        return table;
    }

    private static void Write(string path, IReadOnlyList<AblationRow> rows)
    {
        using var csv = CsvWriter.ToFile(path, CsvWriterOptions.Default with { NewLine = "\n" });
        csv.WriteRecord(Columns.ToArray());
        foreach (var row in rows)
        {
            var (setting, m) = (row.Setting, row.Metrics);
            csv.WriteRecord([
                setting.Group,
                setting.Value,
                Text(setting.Cam.Layers),
                Text(setting.Cam.Threshold),
                Text(setting.Cam.Window),
                m.RawThreshold.ToString("R", CultureInfo.InvariantCulture),
                Text(m.Tp),
                Text(m.Fn),
                Text(m.Fp),
                Text(m.Tn),
                m.FpAtRecall99 is { } fp99 ? Text(fp99) : string.Empty,
                m.Auroc.ToString("F6", CultureInfo.InvariantCulture),
                m.Aupr.ToString("F6", CultureInfo.InvariantCulture),
                row.MaskIoU?.ToString("F6", CultureInfo.InvariantCulture) ?? string.Empty]);
        }

        csv.Flush();
    }

    private static void Print(IReadOnlyList<AblationRow> rows, CamSettings own)
    {
        var table = new Table()
            .Title("ablation (learned mask: one setting varied, the others the bundle's; * = the bundle's own)")
            .AddColumns("group", "value", "TP", "FN", "FP", "FP @ 99 % recall", "AUROC", "AUPR", "mask IoU");
        foreach (var row in rows)
        {
            var m = row.Metrics;
            table.AddRow(
                row.Setting.Group,
                row.Setting.Value + (row.Setting.Cam == own ? " *" : string.Empty),
                Text(m.Tp),
                Text(m.Fn),
                Text(m.Fp),
                m.FpAtRecall99 is { } fp99 ? Text(fp99) : "-",
                m.Auroc.ToString("F3", CultureInfo.InvariantCulture),
                m.Aupr.ToString("F3", CultureInfo.InvariantCulture),
                row.MaskIoU?.ToString("F3", CultureInfo.InvariantCulture) ?? "-");
        }

        AnsiConsole.Write(table);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}
