using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What <c>calibrate</c> was asked to do.</summary>
/// <param name="Bundle">Bundle to recalibrate.</param>
/// <param name="Data">Folder of normal clips whose frames set the thresholds.</param>
/// <param name="Out">Bundle file to write (the same weights, new calibrations).</param>
/// <param name="Categories">Only frames of these label categories (empty: every normal frame).</param>
/// <param name="Percentile">Threshold = this percentile of the frames' scores.</param>
/// <param name="Settings">Scoring parameters to change first, as <c>key=value</c> (keys of the bundle's parameters).</param>
/// <param name="Device">cpu or cuda.</param>
internal sealed record CalibrateRequest(string Bundle, string Data, string Out, IReadOnlyList<string> Categories, double Percentile, IReadOnlyList<string> Settings, string Device);

/// <summary>
/// <c>calibrate</c>: refits a frame detector's score calibrations (every scoring variant's) on
/// normal clips without training again: after a camera was moved or the light changed, or after a
/// scoring parameter (<c>--set peak=8</c>, <c>--set detectionScore=0.7</c>) was changed. The weights
/// are copied unchanged.
/// </summary>
internal static class CalibrateWorkflow
{
    /// <summary>Frames scored per call, so a folder of long clips is never held in memory at once.</summary>
    private const int Chunk = 64;

    public static string Run(CalibrateRequest request, TimeProvider time)
    {
        var original = ModelBundle.Load(request.Bundle);
        if (original.Manifest.Detector == TemporalDetector.Name)
        {
            throw new ArgumentException($"{request.Bundle}: calibrate refits frame detectors ({AutoencoderDetector.Name}, {IntegratedDetector.Name}); a {TemporalDetector.Name} bundle is calibrated by train --detector {TemporalDetector.Name}");
        }

        var (parameters, changed) = Edited(original.Manifest, request.Settings, request.Bundle);
        var bundle = original with { Manifest = original.Manifest with { Parameters = parameters } };
        var clips = ClipDataset.Open(request.Data, requireLabels: false);
        using var loaded = DetectorCatalog.Load(bundle, request.Bundle, TorchDevices.Parse(request.Device));
        EnsureAccepted(loaded.Detector, changed, parameters, original.Manifest.Detector);

        var scorer = loaded.Detector as IVariantScorer;
        var variants = scorer?.Variants ?? [loaded.Manifest.Detector];
        var scores = variants.Select(_ => new List<double>()).ToArray();
        foreach (var chunk in TrainWorkflow.NormalFrames(clips, request.Categories).Chunk(Chunk))
        {
            var chunkScores = scorer is not null ? scorer.ScoreVariants(chunk) : [loaded.Detector.ScoreSequence(chunk)];
            for (var v = 0; v < variants.Count; v++)
            {
                scores[v].AddRange(chunkScores[v].Select(s => s.RawScore));
            }
        }

        var count = scores[0].Count;
        if (count == 0)
        {
            throw new ArgumentException($"{request.Data}: no normal frames{(request.Categories.Count > 0 ? $" of category {string.Join(", ", request.Categories)}" : string.Empty)} to calibrate on");
        }

        TrainWorkflow.WarnIfFewCalibrationFrames(count, request.Percentile);
        var calibrations = variants.Select((name, v) => (name, ScoreCalibration.Fit(scores[v], request.Percentile))).ToDictionary(p => p.name, p => p.Item2);
        var now = time.GetUtcNow();
        var training = new Dictionary<string, string>(original.Manifest.Training)
        {
            ["calibratedAt"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["calibrationFrames"] = count.ToString(CultureInfo.InvariantCulture),
            ["calibrationData"] = Path.GetFullPath(request.Data),
        };
        var manifest = original.Manifest with
        {
            ModelVersion = DetectorCatalog.ModelVersionAt(now),
            Parameters = parameters,
            Calibration = calibrations[variants[0]],
            Training = training,
            VariantCalibrations = scorer is not null ? calibrations : original.Manifest.VariantCalibrations,
        };
        (original with { Manifest = manifest }).Save(request.Out);

        var table = new Table().AddColumns("variant", "threshold before", "threshold now");
        foreach (var name in variants)
        {
            var before = name == variants[0] ? original.Manifest.Calibration : original.Manifest.VariantCalibrations?.GetValueOrDefault(name);
            table.AddRow(Markup.Escape(name), before?.Threshold.ToString("G6", CultureInfo.InvariantCulture) ?? "-", calibrations[name].Threshold.ToString("G6", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"calibrated on {count} normal frames (percentile {request.Percentile:0.###}); bundle [bold]{Markup.Escape(Path.GetFullPath(request.Out))}[/]");
        return Path.GetFullPath(request.Out);
    }

    /// <summary>The bundle's parameters with each <c>key=value</c> setting applied, and the keys set; only existing keys may change.</summary>
    private static (Dictionary<string, string> Parameters, IReadOnlySet<string> Changed) Edited(BundleManifest manifest, IReadOnlyList<string> settings, string path)
    {
        var parameters = new Dictionary<string, string>(manifest.Parameters);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var setting in settings)
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"--set '{setting}': expected key=value");
            }

            var key = setting[..equals];
            if (!parameters.ContainsKey(key))
            {
                throw new ArgumentException($"--set '{setting}': the {manifest.Detector} bundle {path} has no parameter '{key}' (its parameters: {string.Join(", ", manifest.Parameters.Keys.Order(StringComparer.Ordinal))})");
            }

            parameters[key] = setting[(equals + 1)..];
            changed.Add(key);
        }

        return (parameters, changed);
    }

    /// <summary>Refuses a setting the rebuilt detector did not take as given (a value it could not read falls back to a default).</summary>
    private static void EnsureAccepted(IAnomalyDetector detector, IReadOnlySet<string> changed, IReadOnlyDictionary<string, string> parameters, string kind)
    {
        if (changed.Count == 0 || detector is not IBundledDetector bundled)
        {
            return;
        }

        var read = bundled.BundleParameters;
        foreach (var key in changed)
        {
            if (read.GetValueOrDefault(key) != parameters[key])
            {
                throw new ArgumentException($"--set {key}={parameters[key]}: not a value the {kind} detector reads (it read {read.GetValueOrDefault(key) ?? "nothing"})");
            }
        }
    }
}
