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
using static TorchSharp.torch;

namespace StreamAnomaly.Cli.Commands;

/// <summary>A run of consecutive usable frames of one clip (a temporal model needs them in order).</summary>
internal sealed record FrameRun(Clip Clip, int First, List<Frame> Frames);

/// <summary>
/// <c>train --detector temporal</c>: trains the ConvLSTM autoencoder and the R3D-18 mask model on runs of
/// consecutive normal frames (a frame labelled anomalous, or of an unwanted category, ends a run; runs
/// shorter than one window are dropped), then calibrates on normal validation runs scored whole. The
/// bundle's calibration is the learned masking's; the none and ideal maskings get their own calibrations
/// on the same frames (ideal only when every validation clip has a <c>roi.png</c>), stored with the
/// parameters so <c>eval --masking all</c> can compare the three. Without a validation folder, the last
/// training run is held out for calibration.
/// </summary>
internal static class TemporalTrainWorkflow
{
    public static string Run(TrainRequest request, TimeProvider time)
    {
        var shape = new TemporalShape(
            request.Size,
            request.Window,
            request.Partitions,
            AutoencoderWidth: request.Width,
            AutoencoderHidden: 2 * request.Width,
            AutoencoderCode: request.Bottleneck,
            Peak: request.Peak);
        shape.Validate();
        var device = TorchDevices.Parse(request.Device);
        var clips = ClipDataset.Open(request.Data, requireLabels: false);
        var valFolder = request.Validation ?? TrainWorkflow.SiblingValidationFolder(request.Data);
        var train = Runs(clips, request.Categories, request.Window);
        if (train.Count == 0)
        {
            throw new InvalidDataFileException(request.Data, $"no run of {request.Window} consecutive normal frames to train on");
        }

        var validation = valFolder is null ? [train[^1]] : Runs(ClipDataset.Open(valFolder, requireLabels: false), request.Categories, 1);
        if (valFolder is null)
        {
            if (train.Count < 2)
            {
                throw new InvalidDataFileException(request.Data, "one run of normal frames cannot both train and calibrate: give --val");
            }

            train.RemoveAt(train.Count - 1);
        }

        if (validation.Count == 0)
        {
            throw new InvalidDataFileException(valFolder!, "no normal validation frames to calibrate on");
        }

        var tensors = train.Select(r => FrameTensors.ToByteTensor(r.Frames, request.Size, request.Size)).ToList();
        var trainFrames = train.Sum(r => r.Frames.Count);
        var validationFrames = validation.Sum(r => r.Frames.Count);
        AnsiConsole.MarkupLine(
            $"training [bold]temporal[/] (T = {request.Window}, C = {request.Partitions}) on {trainFrames} normal frames in {train.Count} runs from {clips.Count} clips; " +
            $"calibrating on {validationFrames} frames from {Markup.Escape(valFolder ?? "the last training run")}");
        TrainWorkflow.WarnIfFewCalibrationFrames(validationFrames, request.Percentile);

        var settings = new TemporalTraining(request.Epochs, request.Epochs, request.BatchSize, request.LearningRate, request.Transition, Stride: 0, request.Seed);
        var stopwatch = Stopwatch.StartNew();
        var epochLosses = new List<(string Stage, int Epoch, double Loss)>();
        var windows = tensors.Sum(t => (int)Math.Ceiling((t.shape[0] - request.Window) / Math.Max(1.0, request.Window / 2)) + 1);
        var steps = 2 * request.Epochs * (int)Math.Ceiling(windows / (double)request.BatchSize);
        TemporalDetector detector;
        try
        {
            detector = ConsoleProgress.Run("training", steps, update =>
                TemporalTrainer.Train(tensors, shape, settings, device, new StageProgress(update, epochLosses)));
        }
        finally
        {
            tensors.ForEach(t => t.Dispose());
        }

        using var owned = detector;
        var trainSeconds = stopwatch.Elapsed.TotalSeconds;
        var losses = new Table().AddColumns("stage", "epoch", "mean loss");
        foreach (var (stage, epoch, loss) in epochLosses)
        {
            losses.AddRow(stage, epoch.ToString(CultureInfo.InvariantCulture), loss.ToString("F6", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(losses);

        stopwatch.Restart();
        var rois = validation.Select(r => r.Clip.ReadRoi()).ToArray();
        var withIdeal = rois.All(r => r is not null);
        var scores = validation.SelectMany((r, i) => detector.ScoreAll(r.Frames, withIdeal ? rois[i] : null)).ToArray();
        var scoreSeconds = stopwatch.Elapsed.TotalSeconds;
        var calibration = ScoreCalibration.Fit(scores.Select(s => s.Learned.RawScore), request.Percentile);
        detector.MaskingCalibrations[TemporalMasking.None] = ScoreCalibration.Fit(scores.Select(s => s.None.RawScore), request.Percentile);
        if (withIdeal)
        {
            detector.MaskingCalibrations[TemporalMasking.Ideal] = ScoreCalibration.Fit(scores.Select(s => s.Ideal!.RawScore), request.Percentile);
        }

        var facts = new Dictionary<string, string>
        {
            ["trainFrames"] = trainFrames.ToString(CultureInfo.InvariantCulture),
            ["trainRuns"] = train.Count.ToString(CultureInfo.InvariantCulture),
            ["referenceClip"] = train[detector.Cycle.ReferenceClip].Clip.Name,
            ["validationFrames"] = validationFrames.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = request.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = epochLosses.Last(l => l.Stage == TemporalTrainer.AutoencoderStage).Loss.ToString("R", CultureInfo.InvariantCulture),
            ["finalMaskLoss"] = epochLosses.Last(l => l.Stage == TemporalTrainer.MaskStage).Loss.ToString("R", CultureInfo.InvariantCulture),
            ["trainSeconds"] = trainSeconds.ToString("F1", CultureInfo.InvariantCulture),
            ["validationFramesPerSecond"] = (validationFrames / Math.Max(scoreSeconds, 1e-9)).ToString("F1", CultureInfo.InvariantCulture),
            ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
            ["device"] = request.Device,
        };
        var bundle = DetectorCatalog.CreateBundle(detector, calibration, facts, time.GetUtcNow(), detector.VariantCalibrations);
        bundle.Save(request.Out);
        AnsiConsole.MarkupLine(
            $"cycle period {detector.Cycle.Period:F2} frames (reference clip {Markup.Escape(facts["referenceClip"])}); " +
            $"calibrated threshold {calibration.Threshold:G6} (learned mask; none {detector.MaskingCalibrations[TemporalMasking.None].Threshold:G6}" +
            $"{(withIdeal ? $", ideal {detector.MaskingCalibrations[TemporalMasking.Ideal].Threshold:G6}" : string.Empty)}); " +
            $"{trainSeconds:F1} s training ({trainSeconds / request.Epochs:F1} s/epoch of both stages); validation at {facts["validationFramesPerSecond"]} frames/s; " +
            $"bundle [bold]{Markup.Escape(Path.GetFullPath(request.Out))}[/]");
        return Path.GetFullPath(request.Out);
    }

    /// <summary>Runs of consecutive usable frames of every clip, each at least <paramref name="minimum"/> frames long.</summary>
    public static List<FrameRun> Runs(IReadOnlyList<Clip> clips, IReadOnlyList<string> categories, int minimum)
    {
        var runs = new List<FrameRun>();
        foreach (var clip in clips)
        {
            FrameRun? current = null;
            var index = 0;
            foreach (var frame in clip.ReadFrames())
            {
                if (TrainWorkflow.Usable(clip.Labels?[index], categories))
                {
                    current ??= new FrameRun(clip, index, []);
                    current.Frames.Add(frame);
                }
                else if (current is not null)
                {
                    Keep(current);
                    current = null;
                }

                index++;
            }

            if (current is not null)
            {
                Keep(current);
            }
        }

        return runs;

        void Keep(FrameRun run)
        {
            if (run.Frames.Count >= minimum)
            {
                runs.Add(run);
            }
        }
    }

    /// <summary>One bar over both stages; records each epoch's mean loss per stage.</summary>
    private sealed class StageProgress(Action<double, string?> update, List<(string Stage, int Epoch, double Loss)> epochLosses) : IProgress<TrainingProgress>
    {
        private readonly Dictionary<string, int> offsets = [];

        public void Report(TrainingProgress value)
        {
            if (!offsets.ContainsKey(value.Stage))
            {
                offsets[value.Stage] = offsets.Count == 0 ? 0 : offsets.Values.Max() + (value.Epochs * value.Steps);
            }

            update(offsets[value.Stage] + ((value.Epoch - 1) * value.Steps) + value.Step, $"{value.Stage} epoch {value.Epoch}/{value.Epochs} loss {value.Loss:F5}");
            if (value.EpochDone)
            {
                epochLosses.Add((value.Stage, value.Epoch, value.Loss));
            }
        }
    }
}
