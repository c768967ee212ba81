using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Synthetic.Live;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Streaming;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Host;

/// <summary>How the demo commissions its detector.</summary>
/// <param name="Seconds">Seconds of each camera's footage used (at the camera's frame rate).</param>
/// <param name="Percentile">Calibration percentile of the held-out normal scores.</param>
/// <param name="GridSize">Residual grid cells per side.</param>
public sealed record CommissioningOptions(double Seconds = 40, double Percentile = 99.5, int GridSize = 16)
{
    /// <summary>The detector commissioned (a catalog name).</summary>
    public string Detector { get; init; } = AutoencoderDetector.Name;

    /// <summary>Its options as <c>name=value</c>, laid over its defaults.</summary>
    public IReadOnlyList<string> Settings { get; init; } = AutoencoderSettings(64, 12);

    /// <summary>The autoencoder as the demo has always commissioned it: 64 px, narrow, a few epochs (seconds on 2 cores).</summary>
    public static CommissioningOptions Autoencoder(int size, int epochs, double seconds = 40) =>
        new(seconds) { Detector = AutoencoderDetector.Name, Settings = AutoencoderSettings(size, epochs) };

    private static string[] AutoencoderSettings(int size, int epochs) =>
        [$"size={size}", "width=16", "code=256", $"epochs={epochs}", "batch=16", "learningRate=0.002", "colourJitter=false"];
}

/// <summary>
/// Commissioning: learn what normal looks like from the cameras' first frames, before the plant
/// goes live. Renders each synthetic camera's first <see cref="CommissioningOptions.Seconds"/>
/// (the same pure function of seed and time the camera itself streams, so no anomaly can be in
/// it), fits the chosen detector on four frames in five and calibrates it on the fifth.
/// </summary>
public static class Commissioning
{
    /// <summary>The normal frames of the synthetic cameras among <paramref name="cameras"/> (others are skipped).</summary>
    public static IReadOnlyList<Frame> NormalFrames(IEnumerable<CameraOptions> cameras, double seconds)
    {
        var frames = new List<Frame>();
        foreach (var camera in cameras)
        {
            var source = SyntheticCameraSource.TryCreate(camera, TimeProvider.System);
            if (source is null)
            {
                continue;
            }

            var count = (int)Math.Ceiling(seconds * camera.Fps);
            for (var k = 0; k < count; k++)
            {
                frames.Add(source.Cell.Render(k / camera.Fps, camera.Width, camera.Height).Frame);
            }
        }

        return frames;
    }

    /// <summary>
    /// Fits <see cref="CommissioningOptions.Detector"/> on four of every five <paramref name="frames"/>
    /// and calibrates it on the fifth (<see cref="DetectorLifecycle"/>, as <c>train</c> does); returns
    /// the bundle and the detector.
    /// </summary>
    public static TrainedBundle Train(IReadOnlyList<Frame> frames, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        if (frames.Count < 10)
        {
            throw new ArgumentException($"commissioning needs at least 10 normal frames, got {frames.Count} (are the cameras synthetic?)", nameof(frames));
        }

        var definition = DetectorCatalog.Get(options.Detector);
        var set = new TrainingSet(
            [new FrameClip("commissioning", frames.Where((_, i) => i % 5 != 4).ToArray())],
            [new FrameClip("commissioning-held-out", frames.Where((_, i) => i % 5 == 4).ToArray())],
            TrainingFrames.AllNormal,
            options.Percentile);
        var detectorOptions = DetectorOptionsJson.With(definition.Defaults, options.Settings);
        return DetectorLifecycle.Train(definition, detectorOptions, set, new FitContext(CPU, Seed: 0, progress), TimeProvider.System);
    }

    /// <summary><see cref="Train"/>, as the streaming scorer a worker uses.</summary>
    public static DetectorFrameScorer Scorer(IReadOnlyList<Frame> frames, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        var trained = Train(frames, options, progress);
        return new DetectorFrameScorer(trained.Detector, trained.Bundle.Manifest.Calibrations[trained.Detector.Variants[0]], options.GridSize);
    }
}
