using System.Diagnostics;
using System.Globalization;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>What a training run fits on and calibrates on.</summary>
/// <param name="Train">Normal clips to fit on.</param>
/// <param name="Validation">Normal clips whose frames set every variant's threshold.</param>
/// <param name="Frames">Which of their frames count (normal ones, optionally of some categories).</param>
/// <param name="Percentile">Threshold = this percentile of the validation frames' raw scores.</param>
public sealed record TrainingSet(IReadOnlyList<ILabelledClip> Train, IReadOnlyList<ILabelledClip> Validation, TrainingFrames Frames, double Percentile = 99);

/// <summary>A trained, calibrated bundle and the detector in it (owned by the caller).</summary>
public sealed record TrainedBundle(ModelBundle Bundle, IBundledDetector Detector) : IDisposable
{
    public void Dispose() => Detector.Dispose();
}

/// <summary>
/// The life of every detector after its definition fitted it: calibration of every scoring variant
/// on normal frames, the bundle, and scoring whole clips the way evaluation and calibration both
/// do. Frame detectors (<see cref="IAnomalyDetector.History"/> 1) score in chunks of
/// <see cref="Chunk"/> frames; a detector with history scores each run of consecutive frames whole,
/// so every frame sees the same past as in training.
/// </summary>
public static class DetectorLifecycle
{
    /// <summary>Frames per scoring call of a frame detector: bounds memory whatever the clip length.</summary>
    public const int Chunk = 64;

    /// <summary>
    /// Fits <paramref name="definition"/> with <paramref name="options"/>, calibrates every variant on
    /// the validation frames and packs the bundle, whose training facts hold the detector's own
    /// facts plus frames, seconds, seed and device.
    /// </summary>
    public static TrainedBundle Train(IDetectorDefinition definition, DetectorOptions options, TrainingSet set, FitContext context, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(time);
        var stopwatch = Stopwatch.StartNew();
        var fitted = definition.Fit(options, set.Train, set.Frames, context);
        try
        {
            var trainSeconds = stopwatch.Elapsed.TotalSeconds;
            var (calibrations, frames) = Calibrate(fitted.Detector, set.Validation, set.Frames, set.Percentile);
            var facts = new Dictionary<string, string>(fitted.Facts)
            {
                ["validationFrames"] = frames.ToString(CultureInfo.InvariantCulture),
                ["trainSeconds"] = trainSeconds.ToString("F1", CultureInfo.InvariantCulture),
                ["seed"] = context.Seed.ToString(CultureInfo.InvariantCulture),
                ["device"] = context.Device.ToString(),
            };
            var bundle = DetectorCatalog.CreateBundle(fitted.Detector, calibrations, facts, time.GetUtcNow());
            return new TrainedBundle(bundle, fitted.Detector);
        }
        catch
        {
            fitted.Detector.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fits the calibration of every variant to the raw scores of the usable frames of
    /// <paramref name="clips"/>. A variant that cannot score some of them (an ideal mask where a
    /// clip has no region of interest) gets no calibration. Throws <see cref="ArgumentException"/>
    /// when there is no usable frame.
    /// </summary>
    public static (Dictionary<string, ScoreCalibration> Calibrations, int Frames) Calibrate(IAnomalyDetector detector, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, double percentile)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(frames);
        var variants = detector.Variants;
        var scores = variants.Select(_ => new List<double>()).ToArray();
        var complete = variants.Select(_ => true).ToArray();
        foreach (var (part, context) in Parts(detector, clips, frames))
        {
            var perVariant = detector.ScoreVariants(part, context);
            for (var v = 0; v < variants.Count; v++)
            {
                if (perVariant[v] is { } variantScores)
                {
                    scores[v].AddRange(variantScores.Select(static s => s.RawScore));
                }
                else
                {
                    complete[v] = false;
                }
            }
        }

        if (scores[0].Count == 0)
        {
            throw new ArgumentException($"no {frames} to calibrate on");
        }

        var calibrations = variants
            .Select((name, v) => (name, v))
            .Where(p => complete[p.v])
            .ToDictionary(p => p.name, p => ScoreCalibration.Fit(scores[p.v], percentile));
        return (calibrations, scores[0].Count);
    }

    /// <summary>
    /// Scores every frame of <paramref name="clip"/> under every variant, the clip's region of
    /// interest as context: entry v is null when variant v could not score some of them.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreClip(IAnomalyDetector detector, ILabelledClip clip)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(clip);
        var rows = detector.Variants.Select(_ => new List<RawFrameScore>()).ToArray();
        var complete = detector.Variants.Select(_ => true).ToArray();
        var context = new ScoringContext(clip.ReadRoi());
        foreach (var part in Split(detector, clip.ReadFrames()))
        {
            var perVariant = detector.ScoreVariants(part, context);
            for (var v = 0; v < rows.Length; v++)
            {
                if (perVariant[v] is { } scores)
                {
                    rows[v].AddRange(scores);
                }
                else
                {
                    complete[v] = false;
                }
            }
        }

        return rows.Select((row, v) => complete[v] ? row : null).ToArray();
    }

    /// <summary>The usable frames, in the pieces they are scored in, each with its clip's context.</summary>
    private static IEnumerable<(IReadOnlyList<Frame> Frames, ScoringContext Context)> Parts(IAnomalyDetector detector, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames)
    {
        if (detector.History > 1)
        {
            foreach (var run in frames.Runs(clips, minimum: 1))
            {
                yield return (run.Frames, new ScoringContext(run.Clip.ReadRoi()));
            }

            yield break;
        }

        foreach (var clip in clips)
        {
            var context = new ScoringContext(clip.ReadRoi());
            foreach (var chunk in frames.Frames([clip]).Chunk(Chunk))
            {
                yield return (chunk, context);
            }
        }
    }

    private static IEnumerable<IReadOnlyList<Frame>> Split(IAnomalyDetector detector, IEnumerable<Frame> frames) =>
        detector.History > 1 ? [frames.ToList()] : frames.Chunk(Chunk);
}
