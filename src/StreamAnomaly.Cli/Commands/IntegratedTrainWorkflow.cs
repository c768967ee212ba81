using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Models.Integrated;
using StreamAnomaly.Vision.Training;

namespace StreamAnomaly.Cli.Commands;

/// <summary>
/// <c>train --detector integrated</c>: stage 1 on the training clips' <c>background</c> frames,
/// stage 2 on their <c>normal-object</c> frames (pseudo-labelled), stage 3 on background again;
/// then every Table-5 scoring variant is calibrated on normal validation frames (only those of the
/// <c>--category</c> values when given) and the bundle carries all of their calibrations.
/// </summary>
internal static class IntegratedTrainWorkflow
{
    public const string BackgroundCategory = "background";
    public const string NormalObjectCategory = "normal-object";

    public static string Run(TrainRequest request, TimeProvider time)
    {
        if (request.Size < 32 || request.Size % 32 != 0)
        {
            throw new ArgumentException($"--size {request.Size}: the integrated CNN needs a positive multiple of 32");
        }

        var device = TorchDevices.Parse(request.Device);
        var options = new IntegratedNetworkOptions
        {
            Depth = request.Backbone,
            WidthDivisor = request.WidthDivisor,
            InputHeight = request.Size,
            InputWidth = request.Size,
            CodeSize = request.Bottleneck,
            PyramidChannels = Math.Max(32, 256 / request.WidthDivisor),
        };
        var clips = ClipDataset.Open(request.Data, requireLabels: true);
        var (background, _, _) = TrainWorkflow.LoadFrames(clips, request.Size, holdOutEveryTenth: false, [BackgroundCategory]);
        var (withObjects, _, _) = TrainWorkflow.LoadFrames(clips, request.Size, holdOutEveryTenth: false, [NormalObjectCategory]);
        using var backgroundFrames = background;
        using var objectFrames = withObjects;
        var valFolder = request.Validation ?? TrainWorkflow.SiblingValidationFolder(request.Data)
            ?? throw new ArgumentException($"{request.Data}: no validation folder beside it; give --val for calibration");
        var validation = TrainWorkflow.NormalFrames(ClipDataset.Open(valFolder, requireLabels: false), request.Categories).ToList();
        AnsiConsole.MarkupLine(
            $"training [bold]integrated[/] ({request.Backbone}, width/{request.WidthDivisor}, {request.Size} px) on {background.shape[0]} background and " +
            $"{withObjects.shape[0]} normal-object frames; calibrating on {validation.Count} frames from {Markup.Escape(valFolder)}");
        TrainWorkflow.WarnIfFewCalibrationFrames(validation.Count, request.Percentile);

        var segmentationEpochs = request.SegmentationEpochs ?? request.Epochs;
        var training = new IntegratedTraining(
            request.Epochs,
            segmentationEpochs,
            request.RefitEpochs,
            request.BatchSize,
            request.LearningRate,
            SegmentationDecay: request.SegmentationDecay ?? 1,
            DecoyProbability: request.Decoys ?? IntegratedTraining.DefaultDecoys,
            SolidDecoys: request.SolidDecoys ?? 0,
            Seed: request.Seed,
            Peak: request.Peak,
            Scaled: request.Scaled,
            Infill: request.Infill ?? IntegratedTraining.DefaultInfill);
        int StepsOf(long frames, int epochs) => (int)((frames + request.BatchSize - 1) / request.BatchSize * epochs);
        var planned = new Dictionary<string, int>
        {
            ["autoencoder"] = StepsOf(background.shape[0], request.Epochs),
            ["segmentation"] = StepsOf(withObjects.shape[0], segmentationEpochs), // until pseudo-labelling tells how many frames hold an object
            ["decoder refit"] = StepsOf(background.shape[0], request.RefitEpochs),
        };
        var epochLosses = new List<(string Stage, int Epoch, double Loss)>();
        var stopwatch = Stopwatch.StartNew();
        var (detector, facts) = ConsoleProgress.Run("training", planned.Values.Sum(), (update, resize) =>
            IntegratedTrainer.Train(background, withObjects, options, training, device, new StageCounter(planned, resize).Wrap(new ConsoleProgress.Training(update, epochLosses))));
        using var trained = detector;
        var trainSeconds = stopwatch.Elapsed.TotalSeconds;
        TrainWorkflow.PrintLosses(epochLosses);
        AnsiConsole.MarkupLine($"pseudo-labels: threshold {facts.PseudoLabelThreshold:G4}, {facts.Instances} instances in {facts.LabelledFrames} of {withObjects.shape[0]} normal-object frames");

        var variantScores = trained.ScoreVariants(validation);
        var calibrations = trained.Variants
            .Select((name, v) => (name, ScoreCalibration.Fit(variantScores[v].Select(s => s.RawScore), request.Percentile)))
            .ToDictionary(p => p.name, p => p.Item2);
        var factsTable = new Dictionary<string, string>
        {
            ["backgroundFrames"] = background.shape[0].ToString(CultureInfo.InvariantCulture),
            ["normalObjectFrames"] = withObjects.shape[0].ToString(CultureInfo.InvariantCulture),
            ["pseudoLabelThreshold"] = facts.PseudoLabelThreshold.ToString("R", CultureInfo.InvariantCulture),
            ["pseudoLabelledFrames"] = facts.LabelledFrames.ToString(CultureInfo.InvariantCulture),
            ["pseudoLabelInstances"] = facts.Instances.ToString(CultureInfo.InvariantCulture),
            ["validationFrames"] = validation.Count.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = request.Epochs.ToString(CultureInfo.InvariantCulture),
            ["segmentationEpochs"] = segmentationEpochs.ToString(CultureInfo.InvariantCulture),
            ["segmentationDecay"] = training.SegmentationDecay.ToString("R", CultureInfo.InvariantCulture),
            ["refitEpochs"] = request.RefitEpochs.ToString(CultureInfo.InvariantCulture),
            ["decoys"] = training.DecoyProbability.ToString("R", CultureInfo.InvariantCulture),
            ["solidDecoys"] = training.SolidDecoys.ToString("R", CultureInfo.InvariantCulture),
            ["trainSeconds"] = trainSeconds.ToString("F1", CultureInfo.InvariantCulture),
            ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
            ["device"] = request.Device,
        };
        var bundle = DetectorCatalog.CreateBundle(trained, calibrations[trained.Variants[0]], factsTable, time.GetUtcNow(), calibrations);
        bundle.Save(request.Out);
        AnsiConsole.MarkupLine($"{trainSeconds:F1} s training; bundle [bold]{Markup.Escape(Path.GetFullPath(request.Out))}[/]");
        return Path.GetFullPath(request.Out);
    }

    /// <summary>
    /// Turns per-stage progress into one running step count over all three stages. Each stage's
    /// planned steps give way to the steps it reports when it starts (stage 2 trains only the frames
    /// that got a pseudo-label), and the bar's end moves with them.
    /// </summary>
    private sealed class StageCounter(Dictionary<string, int> planned, Action<double> resize)
    {
        private readonly Dictionary<string, int> stageOffsets = [];
        private int total;

        public IProgress<TrainingProgress> Wrap(ConsoleProgress.Training inner) => new Relay(this, inner);

        /// <summary>Steps of the stages before <paramref name="value"/>'s stage; a stage's first report fixes its size.</summary>
        private int OffsetOf(TrainingProgress value)
        {
            if (stageOffsets.TryGetValue(value.Stage, out var offset))
            {
                return offset;
            }

            var steps = value.Steps * value.Epochs;
            var start = total;
            stageOffsets[value.Stage] = start;
            total += steps;
            if (planned.GetValueOrDefault(value.Stage) != steps)
            {
                planned[value.Stage] = steps;
                resize(planned.Values.Sum());
            }

            return start;
        }

        private sealed class Relay(StageCounter counter, ConsoleProgress.Training inner) : IProgress<TrainingProgress>
        {
            public void Report(TrainingProgress value) => inner.Report(value, counter.OffsetOf(value));
        }
    }
}
