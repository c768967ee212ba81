using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>A detector with trained weights that can be written into a model bundle.</summary>
public interface IBundledDetector : IAnomalyDetector
{
    /// <summary>The options it was built with (stored in the bundle).</summary>
    DetectorOptions Options { get; }

    /// <summary>The trained parameters as bytes (TorchSharp's state-dict format).</summary>
    byte[] ExportWeights();

    /// <summary>What it learned besides its weights, as JSON; null when nothing.</summary>
    JsonObject? ExportState();

    /// <summary>
    /// Whether its anomaly maps say where the anomaly is; false for a whole-frame method, whose map
    /// is its score everywhere (evaluation then reports no pixel figures for it).
    /// </summary>
    bool Localises => true;
}

/// <summary>How one fit runs: where, from which seed, and who hears about its progress.</summary>
/// <param name="Device">TorchSharp device of the networks.</param>
/// <param name="Seed">Seeds weight initialisation, shuffling and augmentation.</param>
/// <param name="Progress">Told after every optimisation step; null = nobody.</param>
/// <param name="CancellationToken">Stops training between steps.</param>
public sealed record FitContext(Device Device, int Seed = 0, IProgress<TrainingProgress>? Progress = null, CancellationToken CancellationToken = default);

/// <summary>A freshly fitted detector and facts about its training, for the bundle and the logs.</summary>
/// <param name="Detector">The trained detector (the caller owns it).</param>
/// <param name="Facts">Detector-specific facts (frames per stage, final losses, ...), as text.</param>
public sealed record FittedDetector(IBundledDetector Detector, IReadOnlyDictionary<string, string> Facts);

/// <summary>
/// One detector's life (its catalog entry): its options with their defaults, how it learns from
/// normal clips and how it is rebuilt from a bundle. Calibration, bundles, evaluation and the
/// streaming workers are the same for every detector (<see cref="DetectorLifecycle"/>).
/// </summary>
public interface IDetectorDefinition
{
    /// <summary>Registered name: the bundle's <c>detector</c> and <c>train --detector</c>.</summary>
    string Name { get; }

    /// <summary>One line of help.</summary>
    string Summary { get; }

    /// <summary>The default options (their type is the detector's options record).</summary>
    DetectorOptions Defaults { get; }

    /// <summary>The smallest settings that still learn on a tiny clip set: tests and first smoke runs.</summary>
    DetectorOptions Quick { get; }

    /// <summary>
    /// Trains a new detector on the usable frames (<paramref name="frames"/>) of the normal
    /// <paramref name="clips"/>. Throws <see cref="ArgumentException"/> when they cannot train it
    /// (too few frames, a category it needs missing), naming what is missing.
    /// </summary>
    FittedDetector Fit(DetectorOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context);

    /// <summary>
    /// Rebuilds a trained detector from a bundle's validated options, weights and state; throws
    /// <see cref="Core.Data.InvalidDataFileException"/> naming <paramref name="path"/> when they do
    /// not fit together.
    /// </summary>
    IBundledDetector Load(DetectorOptions options, byte[] weights, JsonObject? state, string path, Device device);
}

/// <summary>Typed base of a detector definition: the options arrive as <typeparamref name="TOptions"/>.</summary>
/// <typeparam name="TOptions">The detector's options record.</typeparam>
public abstract class DetectorDefinition<TOptions> : IDetectorDefinition
    where TOptions : DetectorOptions, new()
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public DetectorOptions Defaults { get; } = new TOptions();

    public abstract DetectorOptions Quick { get; }

    public FittedDetector Fit(DetectorOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(context);
        return Fit(Typed(options), clips, frames, context);
    }

    public IBundledDetector Load(DetectorOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Load(Typed(options), weights, state, path, device);
    }

    /// <inheritdoc cref="IDetectorDefinition.Fit"/>
    protected abstract FittedDetector Fit(TOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context);

    /// <inheritdoc cref="IDetectorDefinition.Load"/>
    protected abstract IBundledDetector Load(TOptions options, byte[] weights, JsonObject? state, string path, Device device);

    private TOptions Typed(DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options is not TOptions typed)
        {
            throw new ArgumentException($"{Name} takes {typeof(TOptions).Name}, not {options.GetType().Name}", nameof(options));
        }

        DetectorOptionsJson.Validate(typed);
        return typed;
    }
}
