using System.Diagnostics;
using Spectre.Console;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>
/// <c>eval</c> of a temporal bundle. Each clip is scored WHOLE in one call (clips are short: the
/// benchmark's are 2 to 8 cycles), so every frame's window and the masks' temporal pooling see the clip's
/// own past, exactly as in training and calibration; the autoencoder path's 64-frame chunks would restart
/// the windows at every chunk. One pass gives the scores under every masking; each masking is normalised
/// with its own calibration from the bundle (fitted on the same normal validation frames).
/// </summary>
/// <remarks>
/// The report folder holds the learned masking's report (or the single masking asked for); with
/// <c>--masking all</c> the other maskings' reports go to <c>masking-none/</c> and <c>masking-ideal/</c>.
/// Ideal masking reads each clip's <c>roi.png</c>: asked for alone it must exist for every clip; within
/// <c>all</c> it is left out (with a note) when a clip has none or the bundle has no ideal calibration.
/// </remarks>
internal static class TemporalEvalWorkflow
{
    public static EvaluationMetrics Run(EvalRequest request, TemporalDetector detector, BundleManifest manifest)
    {
        var asked = (request.Masking ?? "all").Trim().ToLowerInvariant();
        var maskings = asked switch
        {
            "all" => new List<TemporalMasking> { TemporalMasking.None, TemporalMasking.Learned, TemporalMasking.Ideal },
            "none" => [TemporalMasking.None],
            "learned" => [TemporalMasking.Learned],
            "ideal" => [TemporalMasking.Ideal],
            _ => throw new ArgumentException($"--masking {request.Masking}: must be none, learned, ideal or all"),
        };

        var clips = ClipDataset.Open(request.Data, requireLabels: true);
        var rois = new Dictionary<string, BinaryMask>();
        if (maskings.Contains(TemporalMasking.Ideal))
        {
            var missing = clips.FirstOrDefault(c => c.ReadRoi() is null);
            var note = missing is not null ? $"{missing.Name} has no roi.png"
                : !detector.MaskingCalibrations.ContainsKey(TemporalMasking.Ideal) ? "the bundle has no ideal-mask calibration (its validation clips had no roi.png)"
                : null;
            if (note is not null && maskings.Count == 1)
            {
                throw new InvalidDataFileException(missing?.MediaPath ?? request.Bundle, $"ideal masking impossible: {note}");
            }

            if (note is not null)
            {
                AnsiConsole.MarkupLine($"ideal masking left out: {Markup.Escape(note)}");
                maskings.Remove(TemporalMasking.Ideal);
            }
            else
            {
                foreach (var clip in clips)
                {
                    rois[clip.Name] = clip.ReadRoi()!;
                }
            }
        }

        foreach (var masking in maskings)
        {
            if (!detector.MaskingCalibrations.ContainsKey(masking) && masking != TemporalMasking.Learned)
            {
                throw new InvalidDataFileException(request.Bundle, $"the bundle has no calibration for masking {masking.ToString().ToLowerInvariant()}");
            }
        }

        ScoreCalibration Calibration(TemporalMasking masking) =>
            masking == TemporalMasking.Learned ? manifest.Calibration : detector.MaskingCalibrations[masking];

        var total = clips.Sum(c => c.Labels!.Count);
        var maskIoUs = new List<double>();
        using var output = new OutputFolder(request.Out);
        var stopwatch = Stopwatch.StartNew();
        var rows = ConsoleProgress.Run("scoring", total, update =>
        {
            var result = maskings.ToDictionary(m => m, _ => new List<ScoredFrame>(total));
            var done = 0;
            foreach (var clip in clips)
            {
                var frames = clip.ReadFrames().ToList();
                var scores = detector.ScoreAll(frames, rois.GetValueOrDefault(clip.Name));
                if (maskings.Contains(TemporalMasking.Learned) && clip.ReadRoi() is { } roi)
                {
                    // the learned mask keeps what it does not ignore; the region of interest is the ideal keep-mask
                    maskIoUs.AddRange(scores.Select(s => s.Learned.Ignored).OfType<BinaryMask>()
                        .Select(ignored => MaskMetrics.IoU(ignored.Inverted(), roi.Resized(ignored.Width, ignored.Height))));
                }

                foreach (var masking in maskings)
                {
                    var calibration = Calibration(masking);
                    for (var i = 0; i < scores.Count; i++)
                    {
                        var label = clip.Labels![i];
                        var raw = scores[i].Get(masking)!.RawScore;
                        result[masking].Add(new ScoredFrame(clip.Name, i, raw, calibration.Normalize(raw), label.Label, label.Category));
                    }
                }

                done += frames.Count;
                update(done, $"scoring {clip.Name}");
            }

            return result;
        });
        var framesPerSecond = total / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);

        var primary = maskings.Contains(TemporalMasking.Learned) ? TemporalMasking.Learned : maskings[0];
        var metrics = new List<EvaluationMetrics>();
        EvaluationMetrics? main = null;
        foreach (var masking in maskings)
        {
            var name = $"{manifest.Detector}/{masking.ToString().ToLowerInvariant()}";
            var m = EvaluationReport.Compute(rows[masking], name, manifest.ModelVersion, Calibration(masking), framesPerSecond);
            var folder = masking == primary ? output.StagingPath : Directory.CreateDirectory(output.Stage($"masking-{masking.ToString().ToLowerInvariant()}")).FullName;
            EvaluationReport.Write(folder, rows[masking], [m]);
            metrics.Add(m);
            main = masking == primary ? m : main;
        }

        if (maskIoUs.Count > 0)
        {
            File.WriteAllText(
                Path.Combine(output.StagingPath, "mask-iou.json"),
                System.Text.Json.JsonSerializer.Serialize(new { learnedVsRegionOfInterest = maskIoUs.Average(), frames = maskIoUs.Count }));
        }

        output.Commit();
        metrics.Remove(main!);
        metrics.Insert(0, main!);
        EvalWorkflow.PrintTables(metrics);
        if (maskIoUs.Count > 0)
        {
            AnsiConsole.MarkupLine($"learned background mask vs region of interest: mean IoU [bold]{maskIoUs.Average():F3}[/] over {maskIoUs.Count} frames");
        }

        AnsiConsole.MarkupLine($"{main!.Frames} frames from {main.Clips} clips at {framesPerSecond:F1} frames/s (all maskings in one pass, whole clips); report [bold]{Markup.Escape(output.FinalPath)}[/]");
        return main;
    }
}
