using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Scene;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Streaming;

namespace StreamAnomaly.Cli.Commands;

/// <summary>Which bundles to evaluate on which labelled clips, and where the report goes.</summary>
/// <param name="Bundles">Model bundle files: one, or several to fuse as a line aggregator does.</param>
/// <param name="Data">Folder of labelled clips.</param>
/// <param name="Out">Report folder.</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="GridSize">Cells per side of the grids the fusion works on (the workers' <c>Worker:GridSize</c>).</param>
/// <param name="Compare">Several bundles side by side, each scored and timed alone, instead of their fusion.</param>
internal sealed record EvalRequest(IReadOnlyList<string> Bundles, string Data, string Out, string Device = "cpu", int GridSize = 16, bool Compare = false);

/// <summary>One column of the evaluation tables: a name and the calibration its raw scores are normalised with (null: not calibrated).</summary>
/// <param name="Name">Column title.</param>
/// <param name="Calibration">Normalises its raw scores; null: not calibrated (left out).</param>
/// <param name="FitSeconds">How long its detector took to fit, when known.</param>
/// <param name="Timer">Runs only while this column scores (its frames/s); null: the whole scoring pass is timed.</param>
/// <param name="Localises">False for a whole-frame detector (uniform maps): no pixel figures.</param>
internal sealed record EvalColumn(string Name, ScoreCalibration? Calibration, double? FitSeconds = null, Stopwatch? Timer = null, bool Localises = true);

/// <summary>
/// Scores every frame of a labelled clip folder with any detector's bundle, under every scoring
/// variant it has a calibration for, and writes the report (scores.csv, metrics.json, roc.png,
/// timelines/ of the default variant; every variant's metrics in metrics.json and the tables).
/// Clips are scored as calibration scored them (<see cref="DetectorLifecycle.ScoreClip"/>), with
/// each clip's region of interest as context; a variant that cannot score every clip is left out
/// with a note. With several bundles, the first column is their fusion as the pipeline computes it
/// (<see cref="ClipFusion"/>), followed by each bundle's default variant; with
/// <see cref="EvalRequest.Compare"/>, each bundle's default variant alone, timed alone, and the
/// comparison files (comparison.md, comparison.csv, a ROC curve per detector in roc.png).
/// </summary>
internal static class EvalWorkflow
{
    public static EvaluationMetrics Run(EvalRequest request)
    {
        if (request.Bundles.Count == 0)
        {
            throw new ArgumentException("give at least one --bundle");
        }

        if (request.Compare && request.Bundles.Count < 2)
        {
            throw new ArgumentException("--compare needs at least two --bundle");
        }

        if (request.GridSize is < 1 or > 64)
        {
            throw new ArgumentException($"--grid must lie in 1 .. 64, got {request.GridSize}");
        }

        var device = TorchDevices.Parse(request.Device);
        var loaded = new List<LoadedDetector>();
        try
        {
            foreach (var bundle in request.Bundles)
            {
                loaded.Add(DetectorCatalog.Load(bundle, device));
            }

            var clips = ClipDataset.Open(request.Data, requireLabels: true);
            if (loaded is [var single])
            {
                var columns = single.Detector.Variants
                    .Select((name, v) => new EvalColumn(v == 0 ? single.Manifest.Detector : $"{single.Manifest.Detector}/{name}", single.Manifest.Calibrations.GetValueOrDefault(name), FitSeconds(single), Localises: single.Detector.Localises))
                    .ToArray();
                return Report(single.Manifest.ModelVersion, clips, columns, clip => DetectorLifecycle.ScoreClip(single.Detector, clip), request.Out, "eval", request.Data);
            }

            var names = loaded.Select((l, i) => loaded.Take(i).Any(o => o.Manifest.Detector == l.Manifest.Detector) ? $"{l.Manifest.Detector}#{i + 1}" : l.Manifest.Detector).ToArray();
            var modelVersions = string.Join(" + ", loaded.Select(l => l.Manifest.ModelVersion));
            if (request.Compare)
            {
                var compared = loaded.Select((l, i) => new EvalColumn(names[i], l.Calibration, FitSeconds(l), new Stopwatch(), l.Detector.Localises)).ToArray();
                return Report(modelVersions, clips, compared, clip => loaded.Select((l, i) => Timed(compared[i].Timer!, () => DetectorLifecycle.ScoreClip(l.Detector, clip)[0])).ToArray(), request.Out, "eval", request.Data);
            }

            EvalColumn[] fusedColumns = [new($"fused ({string.Join(" + ", names)})", ClipFusion.Normalised), .. loaded.Select((l, i) => new EvalColumn(names[i], l.Calibration, FitSeconds(l), Localises: l.Detector.Localises))];
            return Report(
                modelVersions,
                clips,
                fusedColumns,
                clip =>
                {
                    var each = loaded.Select((l, i) => new DetectorScores(names[i], l.Calibration, DetectorLifecycle.ScoreClip(l.Detector, clip)[0]!)).ToArray();
                    return [ClipFusion.Fuse(each, request.GridSize), .. each.Select(static d => d.Scores)];
                },
                request.Out,
                "eval",
                request.Data);
        }
        finally
        {
            loaded.ForEach(static l => l.Dispose());
        }
    }

    /// <summary>The bundle's fit time from its training facts, when it recorded one.</summary>
    private static double? FitSeconds(LoadedDetector loaded) =>
        loaded.Manifest.Training.TryGetValue("trainSeconds", out var text) && double.TryParse(text, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;

    private static T Timed<T>(Stopwatch timer, Func<T> action)
    {
        timer.Start();
        try
        {
            return action();
        }
        finally
        {
            timer.Stop();
        }
    }

    /// <summary>
    /// Scores every clip with <paramref name="score"/> (one list per column, null when the column
    /// cannot score that clip), writes the report of the first column (every column's metrics in
    /// metrics.json) into <paramref name="outputFolder"/> (see <see cref="OutputFolder"/>: never
    /// over <paramref name="dataFolder"/>) and prints the tables. A column without a calibration or that cannot score
    /// every clip is left out with a note.
    /// </summary>
    public static EvaluationMetrics Report(
        string modelVersion,
        IReadOnlyList<Clip> clips,
        IReadOnlyList<EvalColumn> columns,
        Func<Clip, IReadOnlyList<IReadOnlyList<RawFrameScore>?>> score,
        string outputFolder,
        string command,
        string dataFolder)
    {
        var total = clips.Sum(c => c.Labels!.Count);
        var masked = AnomalyMasked(clips);
        using var output = new OutputFolder(outputFolder, command, dataFolder);
        var stopwatch = Stopwatch.StartNew();
        var cycles = new List<(string Clip, CycleRecord Cycle)>();
        var (scored, pixels) = ConsoleProgress.Run("scoring", total, update =>
        {
            var rows = columns.Select(c => c.Calibration is null ? null : new List<ScoredFrame>(total)).ToArray();
            var maps = columns.Select(c => masked && c.Localises ? new PixelMetrics() : null).ToArray();
            var done = 0;
            foreach (var clip in clips)
            {
                var perColumn = score(clip);
                if (perColumn[0] is { } first && columns[0].Calibration is { } firstCalibration)
                {
                    cycles.AddRange(Cycles(first, firstCalibration).Select(c => (clip.Name, c)));
                }

                var anomaly = masked ? Enumerable.Range(0, clip.Labels!.Count).Select(i => clip.ReadMask(AnomalyMask, i)).ToArray() : null;
                for (var c = 0; c < rows.Length; c++)
                {
                    if (perColumn[c] is not { } scores || columns[c].Calibration is not { } calibration)
                    {
                        rows[c] = null;
                        continue;
                    }

                    rows[c]?.AddRange(scores.Select((s, i) => new ScoredFrame(clip.Name, i, s.RawScore, calibration.Normalize(s.RawScore), clip.Labels![i].Label, clip.Labels[i].Category)));
                    for (var i = 0; i < scores.Count && anomaly is not null && maps[c] is { } pixels; i++)
                    {
                        var label = clip.Labels![i];
                        pixels.Add(scores[i].Residual, anomaly[i], label.IsAnomalous ? label.Category : null);
                    }
                }

                done += clip.Labels!.Count;
                update(done, $"scoring {clip.Name}");
            }

            return (rows, maps);
        });
        var framesPerSecond = total / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);

        var metrics = new List<EvaluationMetrics>();
        for (var c = 0; c < scored.Length; c++)
        {
            if (scored[c] is { } rows)
            {
                var columnRate = columns[c].Timer is { } timer ? total / Math.Max(timer.Elapsed.TotalSeconds, 1e-9) : framesPerSecond;
                metrics.Add(EvaluationReport.Compute(rows, columns[c].Name, modelVersion, columns[c].Calibration!, columnRate) with
                {
                    FitSeconds = columns[c].FitSeconds,
                    PixelAuroc = pixels[c]?.Auroc(),
                    Pro = pixels[c]?.Pro(),
                    CategoryPixelAurocs = pixels[c]?.CategoryAurocs() ?? new Dictionary<string, double?>(),
                });
            }
            else
            {
                var why = columns[c].Calibration is null ? "the bundle has no calibration for it" : "it cannot score every clip (an ideal mask needs each clip's roi.png)";
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(columns[c].Name)}[/] left out: {why}");
            }
        }

        if (scored[0] is null)
        {
            throw new InvalidOperationException($"{columns[0].Name}: the default column scored nothing");
        }

        EvaluationReport.Write(output.StagingPath, scored[0]!, metrics);
        var compared = columns.All(static c => c.Timer is not null);
        if (compared)
        {
            EvaluationReport.WriteComparison(output.StagingPath, scored.Where(static r => r is not null).Select(static r => (IReadOnlyList<ScoredFrame>)r!).ToArray(), metrics);
        }
        if (cycles.Count > 0)
        {
            WriteCycles(Path.Combine(output.StagingPath, CyclesFile), cycles);
        }

        output.Commit();

        PrintTables(metrics);
        if (compared)
        {
            PrintComparison(metrics);
        }
        if (cycles.Count > 0)
        {
            PrintCycles(cycles);
        }

        if (!masked)
        {
            AnsiConsole.MarkupLine($"no pixel figures: not every clip with anomalous frames has {AnomalyMask} masks (CLIP.masks/{AnomalyMask}/)");
        }

        AnsiConsole.MarkupLine($"{metrics[0].Frames} frames from {metrics[0].Clips} clips at {framesPerSecond:F1} frames/s; report [bold]{Markup.Escape(output.FinalPath)}[/]");
        return metrics[0];
    }

    /// <summary>The report file listing every complete machine cycle of every clip (detectors that track the cycle).</summary>
    public const string CyclesFile = "cycles.csv";

    /// <summary>
    /// The complete machine cycles of one clip's scores, by the rule the workers' cycle-time metric
    /// uses (<see cref="CycleClock"/>), timed in frames (one frame a second); empty when the scores
    /// carry no phase. Each cycle's peak is the highest normalised score in it and its phase.
    /// </summary>
    public static IReadOnlyList<CycleRecord> Cycles(IReadOnlyList<RawFrameScore> scores, ScoreCalibration calibration)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(calibration);
        return CycleClock.OfFrames(scores.Select(s => (s.Phase, calibration.Normalize(s.RawScore))));
    }

    private static void WriteCycles(string path, IEnumerable<(string Clip, CycleRecord Cycle)> cycles)
    {
        var lines = cycles.Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{c.Clip},{Frames(c.Cycle.Start):F2},{Frames(c.Cycle.End):F2},{c.Cycle.Duration.TotalSeconds:F2},{c.Cycle.PeakScore:F4},{c.Cycle.PeakPhase:F3}"));
        File.WriteAllLines(path, ["clip,start_frame,end_frame,frames,peak_score,peak_phase", .. lines]);
    }

    private static double Frames(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).TotalSeconds;

    /// <summary>One row per clip: its cycles' lengths and where the most deviant one peaked.</summary>
    private static void PrintCycles(IReadOnlyList<(string Clip, CycleRecord Cycle)> cycles)
    {
        var table = new Table { Title = new TableTitle("complete machine cycles per clip (frames; peak = highest normalised score in a cycle, at its phase)") };
        table.AddColumns("clip", "cycles", "lengths", "largest peak (phase)");
        foreach (var clip in cycles.GroupBy(static c => c.Clip))
        {
            var peak = clip.MaxBy(static c => c.Cycle.PeakScore).Cycle;
            table.AddRow(
                Markup.Escape(clip.Key),
                clip.Count().ToString(CultureInfo.InvariantCulture),
                string.Join(", ", clip.Select(static c => c.Cycle.Duration.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture))),
                string.Create(CultureInfo.InvariantCulture, $"{peak.PeakScore:F2} ({peak.PeakPhase:F2})"));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>The mask kind holding each anomalous frame's exact anomaly (written by <c>synth</c>).</summary>
    public const string AnomalyMask = "anomaly";

    /// <summary>True when every clip with an anomalous frame has anomaly masks, so pixel figures mean something.</summary>
    private static bool AnomalyMasked(IReadOnlyList<Clip> clips) =>
        clips.Any(c => c.Labels!.Any(static l => l.IsAnomalous))
        && clips.Where(c => c.Labels!.Any(static l => l.IsAnomalous)).All(c => c.ReadMask(AnomalyMask, 0) is not null);

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

        var detection = new Table().Title("frame-level detection (seed-002 table) and pixel-level figures").AddColumns("model", "TP", "FN", "FP", "FP @ 99 % recall", "AUROC", "AUPR", "pixel AUROC", "PRO");
        foreach (var m in metrics)
        {
            detection.AddRow(
                Markup.Escape(m.Detector),
                m.Tp.ToString(CultureInfo.InvariantCulture),
                m.Fn.ToString(CultureInfo.InvariantCulture),
                m.Fp.ToString(CultureInfo.InvariantCulture),
                m.FpAtRecall99?.ToString(CultureInfo.InvariantCulture) ?? "-",
                m.Auroc.ToString("F3", CultureInfo.InvariantCulture),
                m.Aupr.ToString("F3", CultureInfo.InvariantCulture),
                m.PixelAuroc?.ToString("F3", CultureInfo.InvariantCulture) ?? "-",
                m.Pro?.ToString("F3", CultureInfo.InvariantCulture) ?? "-");
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
                ranking.AddRow([Markup.Escape(category.Category), category.AnomalousFrames.ToString(CultureInfo.InvariantCulture), .. metrics.Select(m => Auroc(m, category.Category))]);
            }

            AnsiConsole.Write(ranking);
            if (metrics.Any(static m => m.CategoryPixelAurocs.Count > 0))
            {
                AnsiConsole.MarkupLine("AUROC cells read frame / pixel (the pixels of the category's frames and of every normal frame, 64x64 raster)");
            }
        }
    }

    /// <summary>The side-by-side table of <c>eval --compare</c>: every detector's frame and pixel figures, fit time and scoring rate.</summary>
    private static void PrintComparison(IReadOnlyList<EvaluationMetrics> metrics)
    {
        var table = new Table().Title("detectors side by side (each scored alone; frames/s of its scoring on this machine)");
        table.AddColumns(EvaluationReport.ComparisonColumns.Select(Markup.Escape).ToArray());
        foreach (var row in EvaluationReport.ComparisonRows(metrics))
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }

        AnsiConsole.Write(table);
    }

    /// <summary>A category's frame AUROC, and its pixel AUROC after a slash when the clips had anomaly masks.</summary>
    private static string Auroc(EvaluationMetrics metrics, string category)
    {
        var frame = metrics.CategoryAurocs.First(a => a.Category == category).Auroc.ToString("F3", CultureInfo.InvariantCulture);
        return metrics.CategoryPixelAurocs.GetValueOrDefault(category) is { } pixel ? $"{frame} / {pixel.ToString("F3", CultureInfo.InvariantCulture)}" : frame;
    }

    private static CategoryAccuracy[] PatchCategories(EvaluationMetrics metrics) =>
        metrics.Categories.Where(c => Enum.GetValues<PatchCategory>().Any(p => PatchPaster.NameOf(p) == c.Category)).ToArray();

    private static string Percent(double value) => (value * 100).ToString("F2", CultureInfo.InvariantCulture);
}
