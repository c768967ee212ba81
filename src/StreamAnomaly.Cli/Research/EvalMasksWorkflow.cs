using System.Globalization;
using System.Text.Json;
using CsvHelper;
using Spectre.Console;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using StreamAnomaly.Vision;

namespace StreamAnomaly.Cli.Research;

/// <summary>What <c>eval-masks</c> compares and where.</summary>
/// <param name="Bundle">Integrated-CNN bundle: its backbone and decoder are shared by every row.</param>
/// <param name="Data">Training clips: their normal-object frames are labelled (ground truth from CLIP.masks/normal-object, and pseudo-labels).</param>
/// <param name="EvalData">Held-out clips whose normal-object frames with a non-empty ground-truth mask are scored (null = DATA/../val).</param>
/// <param name="Out">Report folder (table3.csv, table3.json).</param>
/// <param name="Epochs">Segmentation-head epochs per row.</param>
/// <param name="BatchSize">Frames per optimisation step.</param>
/// <param name="LearningRate">Adam learning rate.</param>
/// <param name="Seed">Seed of every row's head initialisation and shuffling (the first, with <paramref name="Seeds"/> &gt; 1).</param>
/// <param name="Threshold">Pseudo-label residual threshold (null = the bundle's).</param>
/// <param name="FreezeBackbone">Train the heads on the frozen backbone (faster) instead of with it, as in the paper's stage 2.</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="Seeds">
/// The whole comparison runs with seeds Seed, Seed + 1, ...; each row reports the mean AP over them
/// (and every seed's AP@.50): trained on a few hundred frames, one head's AP swings with its seed.
/// </param>
internal sealed record EvalMasksRequest(
    string Bundle, string Data, string? EvalData, string Out, int Epochs, int BatchSize, double LearningRate, int Seed, double? Threshold, bool FreezeBackbone, string Device, int Seeds = 1);

/// <summary>
/// <c>eval-masks</c>: the integrated-CNN paper's Table 3. The segmentation head is trained once per label
/// source (ground-truth masks, then the three pseudo-label variants) on the same frames, from the same
/// initialisation (the bundle's weights, the head re-initialised), and each is scored by instance-mask AP at IoU .50/.55/.60
/// on held-out frames; the last column is AP@.50 relative to the ground-truth row. Pseudo-labelling speed
/// (decoder residual + labelling) is reported per variant. AP ranks every detection above YOLACT's
/// evaluation score threshold (0.05), not only those above the detector's own alarm-time threshold.
/// </summary>
internal static class EvalMasksWorkflow
{
    public static IReadOnlyList<LabelSourceResult> Run(EvalMasksRequest request, TimeProvider time)
    {
        var device = TorchDevices.Parse(request.Device);
        using var loaded = DetectorCatalog.Load(request.Bundle, device);
        var integrated = loaded.Detector as IntegratedDetector
            ?? throw new ArgumentException($"{request.Bundle}: eval-masks needs an integrated-CNN bundle, this one is '{loaded.Manifest.Detector}'");
        var threshold = PseudolabelWorkflow.Threshold(loaded, request.Bundle, request.Threshold);
        var evalFolder = DetectorArguments.ValidationFolder(request.Data, request.EvalData, "--eval-data");
        var network = integrated.Network;
        var (w, h) = (network.Options.InputWidth, network.Options.InputHeight);

        var (trainFrames, trainMasks) = NormalObjectFrames(request.Data, integrated.Options.ObjectCategory, keepEmpty: true);
        var (evalFrames, evalMasks) = NormalObjectFrames(evalFolder, integrated.Options.ObjectCategory, keepEmpty: false);
        using var trainTensor = FrameTensors.ToByteTensor(trainFrames, w, h);
        using var evalTensor = FrameTensors.ToByteTensor(evalFrames, w, h);
        var evalTruth = LabelSourceComparison.GroundTruth(evalMasks, w, h).Labels
            .Select(l => (IReadOnlyList<BinaryMask>)l.Instances.Select(i => i.Mask).ToArray()).ToArray();
        var sources = new List<LabelSource> { LabelSourceComparison.GroundTruth(trainMasks, w, h) };
        sources.AddRange(LabelSourceComparison.PseudoLabels(network, trainTensor, threshold, device, time));
        AnsiConsole.MarkupLine(
            $"segmentation head on {trainFrames.Count} normal-object frames of {Markup.Escape(request.Data)} per label source, " +
            $"{request.Epochs} epochs each{(request.FreezeBackbone ? ", backbone frozen" : string.Empty)}; scored on {evalFrames.Count} frames of {Markup.Escape(evalFolder)} " +
            $"({evalTruth.Sum(t => t.Count)} objects); pseudo-label threshold {threshold:G4}");

        var (perSeed, _) = ConsoleProgress.Training(progress => Enumerable.Range(request.Seed, request.Seeds).Select(seed =>
        {
            var training = new IntegratedTraining(SegmentationEpochs: request.Epochs, BatchSize: request.BatchSize, LearningRate: request.LearningRate, Seed: seed);
            var name = request.Seeds > 1 ? $" (seed {seed})" : string.Empty;
            return LabelSourceComparison.Compare(
                network, trainTensor, sources, evalTensor, evalTruth, training, request.FreezeBackbone, device,
                source => new RowProgress(progress, source.Name + name));
        }).ToArray());
        var results = sources.Select((source, row) => new LabelSourceResult(source, new MaskApReport(
            perSeed.Average(r => r[row].Ap.Ap50), perSeed.Average(r => r[row].Ap.Ap55), perSeed.Average(r => r[row].Ap.Ap60)))).ToArray();
        var ap50PerSeed = sources.Select((_, row) => perSeed.Select(r => r[row].Ap.Ap50).ToArray()).ToArray();
        var agreements = sources.Select(s => LabelSourceComparison.Agreement(s.Labels, sources[0].Labels)).ToArray();

        using var output = new OutputFolder(request.Out, "research eval-masks", request.Data, evalFolder);
        Write(output.StagingPath, results, ap50PerSeed, agreements, request.Device);
        output.Commit();
        Print(results, agreements, request.Seeds, request.Device);
        AnsiConsole.MarkupLine($"report [bold]{Markup.Escape(output.FinalPath)}[/]");
        return results;
    }

    /// <summary>AP@.50 of <paramref name="row"/> as a percentage of the ground-truth row's (NaN when that is 0).</summary>
    public static double Relative(LabelSourceResult row, LabelSourceResult groundTruth) =>
        groundTruth.Ap.Ap50 > 0 ? 100 * row.Ap.Ap50 / groundTruth.Ap.Ap50 : double.NaN;

    /// <summary>Frames of the normal-object <paramref name="category"/> in every clip under <paramref name="folder"/>, with their ground-truth masks.</summary>
    private static (List<Frame> Frames, List<BinaryMask> Masks) NormalObjectFrames(string folder, string category, bool keepEmpty)
    {
        var frames = new List<Frame>();
        var masks = new List<BinaryMask>();
        foreach (var clip in ClipDataset.Open(folder, requireLabels: true))
        {
            var index = 0;
            foreach (var frame in clip.ReadFrames())
            {
                var i = index++;
                if (clip.Labels![i].Category != category)
                {
                    continue;
                }

                var mask = clip.ReadMask(category, i)
                    ?? throw new InvalidDataFileException(clip.MediaPath, $"no {category} masks: eval-masks needs the ground-truth masks of normal-object frames");
                if (keepEmpty || mask.Area > 0)
                {
                    frames.Add(frame);
                    masks.Add(mask);
                }
            }
        }

        if (frames.Count == 0)
        {
            throw new InvalidDataFileException(folder, $"no {category} frames{(keepEmpty ? string.Empty : " with a ground-truth object")}");
        }

        return (frames, masks);
    }

    private static void Print(IReadOnlyList<LabelSourceResult> results, IReadOnlyList<InstanceAgreement> agreements, int seeds, string device)
    {
        var title = "Table 3: segmentation mask AP by training labels" + (seeds > 1 ? $" (mean of {seeds} seeds)" : string.Empty);
        var table = new Table { Title = new TableTitle(title) }
            .AddColumns("labels", "AP@.50", "AP@.55", "AP@.60", "relative @.50", "labelled frames", "instances", "labels vs truth: precision / recall / IoU", $"labelling frames/s ({device})");
        foreach (var (row, agreement) in results.Zip(agreements))
        {
            table.AddRow(
                Markup.Escape(row.Source.Name),
                Percent(row.Ap.Ap50),
                Percent(row.Ap.Ap55),
                Percent(row.Ap.Ap60),
                Percent(Relative(row, results[0]) / 100),
                row.Source.LabelledFrames.ToString(CultureInfo.InvariantCulture),
                row.Source.Instances.ToString(CultureInfo.InvariantCulture),
                $"{Percent(agreement.Precision)} / {Percent(agreement.Recall)} / {Percent(agreement.MeanMatchedIoU)}",
                row.Source.FramesPerSecond?.ToString("F1", CultureInfo.InvariantCulture) ?? "(people)");
        }

        AnsiConsole.Write(table);
    }

    private static string Percent(double value) => double.IsNaN(value) ? "n/a" : (100 * value).ToString("F2", CultureInfo.InvariantCulture);

    private static void Write(string folder, IReadOnlyList<LabelSourceResult> results, IReadOnlyList<double[]> ap50PerSeed, IReadOnlyList<InstanceAgreement> agreements, string device)
    {
        var rows = results.Select((r, i) => new
        {
            labels = r.Source.Name,
            ap50 = Finite(r.Ap.Ap50),
            ap55 = Finite(r.Ap.Ap55),
            ap60 = Finite(r.Ap.Ap60),
            relativeAp50 = Finite(Relative(r, results[0])),
            labelledFrames = r.Source.LabelledFrames,
            instances = r.Source.Instances,
            labelPrecision = Finite(agreements[i].Precision),
            labelRecall = Finite(agreements[i].Recall),
            labelMatchedIoU = Finite(agreements[i].MeanMatchedIoU),
            labellingFramesPerSecond = r.Source.FramesPerSecond,
            device,
            ap50PerSeed = ap50PerSeed[i].Select(Finite).ToArray(),
        }).ToArray();
        File.WriteAllText(Path.Combine(folder, "table3.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        using var csv = CsvWriter.ToFile(Path.Combine(folder, "table3.csv"), CsvWriterOptions.Default with { NewLine = "\n" });
        csv.WriteRecord(["labels", "ap50", "ap55", "ap60", "relative_ap50", "labelled_frames", "instances", "label_precision", "label_recall", "label_matched_iou", "labelling_fps", "device", "ap50_per_seed"]);
        foreach (var r in rows)
        {
            csv.WriteRecord([
                r.labels,
                Number(r.ap50),
                Number(r.ap55),
                Number(r.ap60),
                Number(r.relativeAp50),
                r.labelledFrames.ToString(CultureInfo.InvariantCulture),
                r.instances.ToString(CultureInfo.InvariantCulture),
                Number(r.labelPrecision),
                Number(r.labelRecall),
                Number(r.labelMatchedIoU),
                Number(r.labellingFramesPerSecond),
                r.device,
                string.Join(';', r.ap50PerSeed.Select(Number))]);
        }

        csv.Flush();

        static double? Finite(double value) => double.IsFinite(value) ? value : null;
        static string Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? string.Empty;
    }

    /// <summary>Shifts a row's steps behind the rows before it on the one bar and names the stage after the row.</summary>
    /// <summary>Reports a row's training as a stage named after the row (one bar each).</summary>
    private sealed class RowProgress(IProgress<TrainingProgress> inner, string row) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => inner.Report(value with { Stage = row });
    }
}
