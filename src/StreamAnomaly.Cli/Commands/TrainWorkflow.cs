using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What to train, on what, and where to put the bundle.</summary>
internal sealed record TrainRequest(
    string Detector,
    string Data,
    string Out,
    string? Validation,
    int Epochs,
    int Size,
    int BatchSize,
    int Bottleneck,
    int Width,
    double LearningRate,
    double Percentile,
    int Seed,
    string Device,
    IReadOnlyList<string> Categories,
    int Window = 8,
    int Partitions = 4,
    int Transition = 2)
{
    /// <summary>Integrated CNN: backbone depth (resnet18, resnet34, resnet50).</summary>
    public string Backbone { get; init; } = "resnet18";

    /// <summary>Integrated CNN: divides every backbone width (1 = full width; 2-4 for CPU runs).</summary>
    public int WidthDivisor { get; init; } = 1;

    /// <summary>Autoencoder and integrated CNN: score by the peak k x k residual window instead of the whole-frame sum (0 = sum).</summary>
    public int Peak { get; init; }

    /// <summary>Integrated CNN: score the residual divided by its normal per-pixel size instead of the raw residual.</summary>
    public bool Scaled { get; init; }

    /// <summary>Integrated CNN: epochs of stage 2 (segmentation head); null = <see cref="Epochs"/>.</summary>
    public int? SegmentationEpochs { get; init; }

    /// <summary>Integrated CNN: fraction of the learning rate left at the end of stage 2 (<see cref="IntegratedTraining.SegmentationDecay"/>); null = constant.</summary>
    public double? SegmentationDecay { get; init; }

    /// <summary>Integrated CNN: epochs of stage 3 (decoder refit).</summary>
    public int RefitEpochs { get; init; } = 3;

    /// <summary>Integrated CNN: in-fill passes of detected normal objects before scoring (<see cref="IntegratedDetector.InfillPasses"/>); null = the trainer's default.</summary>
    public int? Infill { get; init; }

    /// <summary>Integrated CNN: stage 2's chance per frame of an unlabelled decoy blob (<see cref="DecoyPaste"/>); null = the trainer's default.</summary>
    public double? Decoys { get; init; }

    /// <summary>Integrated CNN: share of the decoys that are solid-coloured polygons (<see cref="DecoyPasteOptions.Solid"/>); null = none.</summary>
    public double? SolidDecoys { get; init; }
}

/// <summary>
/// Trains a detector on the NORMAL frames of a clip folder (frames labelled 1 are skipped when
/// labels exist), calibrates its threshold on normal validation frames, and writes a bundle.
/// Validation frames come from <c>--val</c>, else the data folder's sibling <c>val/</c>, else
/// every 10th training frame is held out. With <c>--category</c>, only frames of those label
/// categories train and calibrate (e.g. background-only frames, as in the papers' stage 1).
/// </summary>
internal static class TrainWorkflow
{
    public static string Run(TrainRequest request, TimeProvider time)
    {
        DetectorCatalog.EnsureKnown(request.Detector);
        if (request.Peak < 0 || request.Peak > request.Size)
        {
            throw new ArgumentException($"--peak {request.Peak} must lie in 0 .. {request.Size} (--size)");
        }

        if (request.Detector == IntegratedDetector.Name)
        {
            return IntegratedTrainWorkflow.Run(request, time);
        }

        if (request.Scaled || request.SegmentationEpochs is not null || request.SegmentationDecay is not null || request.Infill is not null || request.Decoys is not null || request.SolidDecoys is not null)
        {
            throw new ArgumentException($"--scaled, --segmentation-epochs, --segmentation-decay, --infill, --decoys and --solid-decoys apply to --detector {IntegratedDetector.Name} only");
        }

        if (request.Size < 16 || request.Size % 16 != 0)
        {
            throw new ArgumentException($"--size {request.Size}: must be a positive multiple of 16");
        }

        if (request.Detector == TemporalDetector.Name)
        {
            return TemporalTrainWorkflow.Run(request, time);
        }

        var device = TorchDevices.Parse(request.Device);
        var clips = ClipDataset.Open(request.Data, requireLabels: false);
        var valFolder = request.Validation ?? SiblingValidationFolder(request.Data);
        var heldOut = valFolder is null;

        var (train, validation, skipped) = LoadFrames(clips, request.Size, holdOutEveryTenth: heldOut, request.Categories);
        if (valFolder is not null)
        {
            validation = NormalFrames(ClipDataset.Open(valFolder, requireLabels: false), request.Categories).ToList();
        }

        using var trainTensor = train;
        AnsiConsole.MarkupLine(
            $"training [bold]{request.Detector}[/] on {train.shape[0]} normal frames from {clips.Count} clips ({skipped} anomalous or unwanted frames skipped); " +
            $"calibrating on {validation.Count} frames from {Markup.Escape(valFolder ?? "every 10th training frame")}");
        WarnIfFewCalibrationFrames(validation.Count, request.Percentile);

        var stopwatch = Stopwatch.StartNew();
        var shape = new AutoencoderShape(request.Size, request.Width, request.Bottleneck, request.Peak);
        var settings = new AutoencoderTraining(request.Epochs, request.BatchSize, request.LearningRate, ColourJitter: true, request.Seed);
        var steps = (int)((train.shape[0] + request.BatchSize - 1) / request.BatchSize) * request.Epochs;
        var epochLosses = new List<(string Stage, int Epoch, double Loss)>();
        using var detector = ConsoleProgress.Run("training", steps, update =>
            AutoencoderTrainer.Train(trainTensor, shape, settings, device, new ConsoleProgress.Training(update, epochLosses)));
        var trainSeconds = stopwatch.Elapsed.TotalSeconds;

        PrintLosses(epochLosses);

        var normalScores = detector.ScoreSequence(validation).Select(s => s.RawScore).ToArray();
        var calibration = ScoreCalibration.Fit(normalScores, request.Percentile);
        var facts = new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["validationFrames"] = validation.Count.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = request.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = epochLosses[^1].Loss.ToString("R", CultureInfo.InvariantCulture),
            ["trainSeconds"] = trainSeconds.ToString("F1", CultureInfo.InvariantCulture),
            ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
            ["device"] = request.Device,
        };
        var bundle = DetectorCatalog.CreateBundle(detector, calibration, facts, time.GetUtcNow());
        bundle.Save(request.Out);
        AnsiConsole.MarkupLine(
            $"calibrated threshold {calibration.Threshold:G6} (percentile {calibration.Percentile} of normal validation scores); " +
            $"{trainSeconds:F1} s training ({trainSeconds / request.Epochs:F1} s/epoch); bundle [bold]{Markup.Escape(Path.GetFullPath(request.Out))}[/]");
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
            losses.AddRow(stage, epoch.ToString(CultureInfo.InvariantCulture), loss.ToString("F6", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(losses);
    }

    internal static string? SiblingValidationFolder(string data)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(data.TrimEnd('/', '\\')));
        var sibling = parent is null ? null : Path.Combine(parent, "val");
        return sibling is not null && Directory.Exists(sibling) && Path.GetFullPath(sibling) != Path.GetFullPath(data.TrimEnd('/', '\\')) ? sibling : null;
    }

    /// <summary>True for a frame that may train or calibrate: normal, and of a wanted category when categories are given.</summary>
    internal static bool Usable(FrameLabel? label, IReadOnlyList<string> categories) =>
        label is not { IsAnomalous: true } && (categories.Count == 0 || (label is not null && categories.Contains(label.Category)));

    internal static IEnumerable<Frame> NormalFrames(IReadOnlyList<Clip> clips, IReadOnlyList<string> categories) =>
        clips.SelectMany(clip => clip.ReadFrames().Where((_, i) => Usable(clip.Labels?[i], categories)));

    /// <summary>Normal frames of every clip, resized, as one uint8 tensor; optionally every 10th frame held out.</summary>
    internal static (Tensor Train, List<Frame> HeldOut, int Skipped) LoadFrames(IReadOnlyList<Clip> clips, int size, bool holdOutEveryTenth, IReadOnlyList<string> categories)
    {
        var parts = new List<Tensor>();
        var heldOut = new List<Frame>();
        var skipped = 0;
        var index = 0;
        foreach (var clip in clips)
        {
            var chunk = new List<Frame>();
            var frameNumber = 0;
            foreach (var frame in clip.ReadFrames())
            {
                var label = clip.Labels?[frameNumber];
                frameNumber++;
                if (!Usable(label, categories))
                {
                    skipped++;
                    continue;
                }

                if (holdOutEveryTenth && index++ % 10 == 9)
                {
                    heldOut.Add(frame);
                }
                else
                {
                    chunk.Add(frame);
                }
            }

            if (chunk.Count > 0)
            {
                parts.Add(FrameTensors.ToByteTensor(chunk, size, size));
            }
        }

        if (parts.Count == 0)
        {
            throw new InvalidDataFileException(Path.GetDirectoryName(clips[0].MediaPath)!, categories.Count == 0 ? "no normal frames to train on" : $"no normal frames of category {string.Join(", ", categories)} to train on");
        }

        var all = cat(parts, 0);
        parts.ForEach(p => p.Dispose());
        return (all, heldOut, skipped);
    }
}
