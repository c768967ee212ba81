using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using StreamAnomaly.Vision;

namespace StreamAnomaly.Cli.Research;

/// <summary>What to pseudo-label with which integrated bundle, and where the labels go.</summary>
/// <param name="Bundle">An integrated-CNN bundle (its decoder gives the residual).</param>
/// <param name="Data">Folder of clips.</param>
/// <param name="Out">Output folder: labels/CLIP/NNNNNN.png, contact-sheet.png and agreement.json (clips with normal-object masks only).</param>
/// <param name="Category">Only frames of this label category (clips without labels: every frame); empty = every frame.</param>
/// <param name="Threshold">Threshold of the scaled residual (see IntegratedTrainer.PseudoLabelResiduals); null = the bundle's.</param>
/// <param name="Variant">Noise removal order (the paper's ablation).</param>
/// <param name="Device">cpu or cuda.</param>
internal sealed record PseudolabelRequest(string Bundle, string Data, string Out, string Category, double? Threshold, PseudoLabelVariant Variant, string Device);

/// <summary>
/// <c>pseudolabel</c>: the integrated CNN's own residual turned into normal-object instance labels
/// (divided by its normal per-pixel size, threshold, connected components, per-region opening/closing), written as 8-bit label PNGs
/// (0 = background, k = instance k) with an overlay contact sheet, and the labelling speed. Where the clips
/// carry ground-truth normal-object masks, the labels are also compared with them, instance by instance
/// (agreement.json): what a segmentation head trained on them could learn at best.
/// </summary>
internal static class PseudolabelWorkflow
{
    private const int Chunk = 32;
    private const int SheetFrames = 16;

    public static int Run(PseudolabelRequest request)
    {
        var device = TorchDevices.Parse(request.Device);
        using var loaded = DetectorCatalog.Load(request.Bundle, device);
        if (loaded.Detector is not IntegratedDetector integrated)
        {
            throw new ArgumentException($"{request.Bundle}: pseudo-labels come from an integrated-CNN bundle, this one is '{loaded.Manifest.Detector}'");
        }

        var threshold = Threshold(loaded, request.Bundle, request.Threshold);
        var options = new PseudoLabelOptions(threshold, Variant: request.Variant);
        options.Validate();
        var clips = ClipDataset.Open(request.Data, requireLabels: false);
        using var output = new OutputFolder(request.Out, "research pseudolabel", request.Data);
        var network = integrated.Network;
        var (h, w) = (network.Options.InputHeight, network.Options.InputWidth);
        var sheet = new List<(Frame, SegmentationTargets)>();
        var (frames, labelled, instances) = (0, 0, 0);
        var (compared, truth) = (new List<SegmentationTargets>(), new List<SegmentationTargets>());
        var stopwatch = Stopwatch.StartNew();
        foreach (var clip in clips)
        {
            var folder = Directory.CreateDirectory(output.Stage(Path.Combine("labels", clip.Name))).FullName;
            var indexed = clip.ReadFrames()
                .Select((frame, i) => (Frame: frame, Index: i))
                .Where(f => request.Category.Length == 0 || clip.Labels is null || clip.Labels[f.Index].Category == request.Category);
            foreach (var chunk in indexed.Chunk(Chunk))
            {
                using var batch = FrameTensors.ToByteTensor(chunk.Select(c => c.Frame).ToArray(), w, h);
                var residuals = IntegratedTrainer.PseudoLabelResiduals(network, batch, device);
                for (var i = 0; i < chunk.Length; i++)
                {
                    var labels = PseudoLabeler.Label(residuals[i], options);
                    if (clip.ReadMask(integrated.Options.ObjectCategory, chunk[i].Index) is { } mask)
                    {
                        compared.Add(labels);
                        truth.Add(PseudoLabeler.FromMask(mask.Resized(w, h)));
                    }

                    PseudoLabeler.WriteLabelPng(Path.Combine(folder, chunk[i].Index.ToString("D6", CultureInfo.InvariantCulture) + ".png"), labels, w, h);
                    frames++;
                    labelled += labels.Instances.Count > 0 ? 1 : 0;
                    instances += labels.Instances.Count;
                    if (labels.Instances.Count > 0 && sheet.Count < SheetFrames)
                    {
                        sheet.Add((chunk[i].Frame, labels));
                    }
                }
            }
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        if (frames == 0)
        {
            throw new ArgumentException($"{request.Data}: no frame of category '{request.Category}' to label");
        }

        if (sheet.Count > 0)
        {
            PseudoLabelSheet.Write(output.Stage("contact-sheet.png"), sheet);
        }

        var agreement = truth.Count > 0 ? LabelSourceComparison.Agreement(compared, truth) : null;
        if (agreement is not null)
        {
            File.WriteAllText(output.Stage("agreement.json"), JsonSerializer.Serialize(new
            {
                frames = truth.Count,
                iouThreshold = 0.5,
                truePositives = agreement.TruePositives,
                falsePositives = agreement.FalsePositives,
                falseNegatives = agreement.FalseNegatives,
                precision = Finite(agreement.Precision),
                recall = Finite(agreement.Recall),
                meanMatchedIoU = Finite(agreement.MeanMatchedIoU),
            }));
        }

        output.Commit();
        if (agreement is not null)
        {
            AnsiConsole.MarkupLine(
                $"against the {integrated.Options.ObjectCategory} masks of {truth.Count} frames (IoU >= 0.5): {agreement.TruePositives} instances right, " +
                $"{agreement.FalsePositives} wrong, {agreement.FalseNegatives} objects missed; precision {agreement.Precision:P1}, recall {agreement.Recall:P1}, " +
                $"matched IoU {agreement.MeanMatchedIoU:F3}");
        }

        AnsiConsole.MarkupLine(
            $"{frames} frames labelled ({labelled} with instances, {instances} instances; threshold {threshold:G4}, {request.Variant}) " +
            $"at {frames / Math.Max(seconds, 1e-9):F1} frames/s on {request.Device}; labels in [bold]{Markup.Escape(output.FinalPath)}[/]");
        return frames;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>The pseudo-label threshold asked for, else the one the bundle was trained with.</summary>
    public static double Threshold(LoadedDetector loaded, string bundle, double? requested) =>
        requested
        ?? (loaded.Manifest.Training.TryGetValue("pseudoLabelThreshold", out var text) ? double.Parse(text, CultureInfo.InvariantCulture)
        : throw new ArgumentException($"{bundle}: the bundle records no pseudo-label threshold; give --threshold"));
}
