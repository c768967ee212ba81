using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What to train, on what, and where to put the bundle.</summary>
/// <param name="Detector">A name from the detector catalog.</param>
/// <param name="Data">Folder of NORMAL training clips (frames labelled anomalous are skipped).</param>
/// <param name="Out">Bundle file to write.</param>
/// <param name="Validation">Folder of normal clips to calibrate on; null = DATA/../val.</param>
/// <param name="OptionsFile">JSON file of detector options laid over the defaults; null = none.</param>
/// <param name="Settings">Detector options as <c>name=value</c>, applied last.</param>
/// <param name="Percentile">Threshold = this percentile of the validation frames' scores.</param>
/// <param name="Seed">Seeds initialisation, shuffling and augmentation.</param>
/// <param name="Device">cpu, cuda or cuda:N.</param>
/// <param name="Categories">Only frames of these label categories train and calibrate (empty = every normal frame).</param>
/// <param name="SignKey">File holding the bundle signing key (<see cref="BundleKey"/>); null = unsigned.</param>
internal sealed record TrainRequest(
    string Detector,
    string Data,
    string Out,
    string? Validation = null,
    string? OptionsFile = null,
    IReadOnlyList<string>? Settings = null,
    double Percentile = 99,
    int Seed = 0,
    string Device = "cpu",
    IReadOnlyList<string>? Categories = null,
    string? SignKey = null);

/// <summary>
/// <c>train</c> for every detector in the catalog: fits it on the usable frames of the training
/// clips, calibrates every scoring variant on the validation clips, writes the bundle and prints
/// the losses and thresholds.
/// </summary>
internal static class TrainWorkflow
{
    public static string Run(TrainRequest request, TimeProvider time)
    {
        var definition = DetectorCatalog.Get(request.Detector);
        var options = DetectorArguments.Options(definition, request.OptionsFile, request.Settings ?? []);
        var device = TorchDevices.Parse(request.Device);
        var frames = new TrainingFrames(request.Categories ?? []);
        var validationFolder = DetectorArguments.ValidationFolder(request.Data, request.Validation);

        // Everything that can refuse the output is checked before hours of training.
        var key = request.SignKey is null ? null : BundleKey.FromFile(request.SignKey);
        OutputPaths.EnsureApart(request.Out, request.Data, validationFolder);
        ModelBundle.EnsureReplaceable(request.Out);
        var train = DetectorArguments.Clips(request.Data);
        var set = new TrainingSet(train, DetectorArguments.Clips(validationFolder), frames, request.Percentile);
        var validationFrames = frames.Frames(set.Validation).Count();
        AnsiConsole.MarkupLine(
            $"training [bold]{definition.Name}[/] on the {Markup.Escape(frames.ToString())} of {set.Train.Count} clips in {Markup.Escape(request.Data)}; " +
            $"calibrating on {validationFrames} frames from {Markup.Escape(validationFolder)}");
        WarnIfFewCalibrationFrames(validationFrames, request.Percentile);

        var (trained, losses) = ConsoleProgress.Training(progress =>
            DetectorLifecycle.Train(definition, options, set, new FitContext(device, request.Seed, progress), time));
        using (trained)
        {
            if (losses.Count > 0)
            {
                PrintLosses(losses);
            }

            trained.Bundle.Save(request.Out, key);
            PrintCalibrations(trained.Bundle.Manifest.Calibrations, null);
            AnsiConsole.MarkupLine(
                $"{trained.Bundle.Manifest.Training["trainSeconds"]} s training; {(key is null ? "unsigned " : "signed ")}bundle [bold]{Markup.Escape(Path.GetFullPath(request.Out))}[/] (model version {trained.Bundle.Manifest.ModelVersion})");
        }

        return Path.GetFullPath(request.Out);
    }

    /// <summary>Warns on standard error, before training starts, when the calibration frames are too few for the percentile.</summary>
    internal static void WarnIfFewCalibrationFrames(int count, double percentile)
    {
        if (ScoreCalibration.SampleSizeWarning(count, percentile) is { } warning)
        {
            Console.Error.WriteLine($"warning: {warning}");
        }
    }

    internal static void PrintLosses(IEnumerable<(string Stage, int Epoch, double Loss)> epochLosses)
    {
        var losses = new Table().AddColumns("stage", "epoch", "mean loss");
        foreach (var (stage, epoch, loss) in epochLosses)
        {
            losses.AddRow(Markup.Escape(stage), epoch.ToString(CultureInfo.InvariantCulture), loss.ToString("F6", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(losses);
    }

    /// <summary>Each variant's threshold (percentile of the normal scores), and the one before when recalibrating.</summary>
    internal static void PrintCalibrations(IReadOnlyDictionary<string, ScoreCalibration> calibrations, IReadOnlyDictionary<string, ScoreCalibration>? before)
    {
        var table = new Table().AddColumns("scoring variant", "percentile");
        if (before is not null)
        {
            table.AddColumn("threshold before");
        }

        table.AddColumn("threshold");
        foreach (var (name, calibration) in calibrations)
        {
            var row = new List<string> { Markup.Escape(name), calibration.Percentile.ToString("0.###", CultureInfo.InvariantCulture) };
            if (before is not null)
            {
                row.Add(before.GetValueOrDefault(name)?.Threshold.ToString("G6", CultureInfo.InvariantCulture) ?? "-");
            }

            row.Add(calibration.Threshold.ToString("G6", CultureInfo.InvariantCulture));
            table.AddRow(row.ToArray());
        }

        AnsiConsole.Write(table);
    }
}
