using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What <c>calibrate</c> was asked to do.</summary>
/// <param name="Bundle">Bundle to recalibrate.</param>
/// <param name="Data">Folder of normal clips whose frames set the thresholds.</param>
/// <param name="Out">Bundle file to write (the same weights, new calibrations).</param>
/// <param name="Categories">Only frames of these label categories (empty: every normal frame).</param>
/// <param name="Percentile">Threshold = this percentile of the frames' scores.</param>
/// <param name="Settings">Scoring options to change first, as <c>name=value</c> (options marked as scoring options only).</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="SignKey">File holding the bundle signing key (<see cref="BundleKey"/>); null = unsigned.</param>
internal sealed record CalibrateRequest(string Bundle, string Data, string Out, IReadOnlyList<string> Categories, double Percentile, IReadOnlyList<string> Settings, string Device, string? SignKey = null);

/// <summary>
/// <c>calibrate</c>: refits every scoring variant's calibration of any detector's bundle on normal
/// clips without training again: after a camera was moved or the light changed, or after a scoring
/// option (<c>--set peak=8</c>) was changed. The weights are copied unchanged. The input bundle is
/// checked for integrity (its digest), not for a signature: with <c>--sign-key</c> the output is
/// signed, so recalibrate only bundles you trust.
/// </summary>
internal static class CalibrateWorkflow
{
    public static string Run(CalibrateRequest request, TimeProvider time)
    {
        var key = request.SignKey is null ? null : BundleKey.FromFile(request.SignKey);
        OutputPaths.EnsureApart(request.Out, request.Data);
        ModelBundle.EnsureReplaceable(request.Out);
        var original = ModelBundle.Load(request.Bundle);
        var definition = DetectorCatalog.Get(original.Manifest.Detector);
        var options = DetectorOptionsJson.With(DetectorCatalog.ReadOptions(definition, original.Manifest, request.Bundle), request.Settings, scoringOnly: true);
        var edited = original with { Manifest = original.Manifest with { Options = DetectorOptionsJson.ToJson(options) } };
        using var loaded = DetectorCatalog.Load(edited, request.Bundle, TorchDevices.Parse(request.Device));
        var frames = new TrainingFrames(request.Categories);
        var clips = DetectorArguments.Clips(request.Data);
        TrainWorkflow.WarnIfFewCalibrationFrames(frames.Frames(clips).Count(), request.Percentile);
        var (calibrations, count) = DetectorLifecycle.Calibrate(loaded.Detector, clips, frames, request.Percentile);

        var now = time.GetUtcNow();
        var training = new Dictionary<string, string>(original.Manifest.Training)
        {
            ["calibratedAt"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["calibrationFrames"] = count.ToString(CultureInfo.InvariantCulture),
            ["calibrationData"] = Path.GetFullPath(request.Data),
        };
        var manifest = edited.Manifest with
        {
            ModelVersion = DetectorCatalog.ModelVersionAt(now),
            Calibrations = calibrations,
            Training = training,
        };
        (original with { Manifest = manifest }).Save(request.Out, key);

        TrainWorkflow.PrintCalibrations(calibrations, original.Manifest.Calibrations);
        AnsiConsole.MarkupLine($"calibrated on {count} normal frames (percentile {request.Percentile:0.###}); {(key is null ? "unsigned " : "signed ")}bundle [bold]{Markup.Escape(Path.GetFullPath(request.Out))}[/]");
        return Path.GetFullPath(request.Out);
    }
}
