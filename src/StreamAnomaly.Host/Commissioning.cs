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
/// <param name="InputSize">Autoencoder input size in pixels (multiple of 16).</param>
/// <param name="Epochs">Training epochs.</param>
/// <param name="Percentile">Calibration percentile of the held-out normal scores.</param>
/// <param name="GridSize">Residual grid cells per side.</param>
public sealed record CommissioningOptions(double Seconds = 40, int InputSize = 64, int Epochs = 12, double Percentile = 99.5, int GridSize = 16);

/// <summary>
/// Commissioning: learn what normal looks like from the cameras' first frames, before the plant
/// goes live. Renders each synthetic camera's first <see cref="CommissioningOptions.Seconds"/>
/// (the same pure function of seed and time the camera itself streams, so no anomaly can be in
/// it), trains the baseline autoencoder on four frames in five and calibrates on the fifth.
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
    /// Trains the autoencoder on four of every five <paramref name="frames"/> and calibrates it on the
    /// fifth (<see cref="DetectorLifecycle"/>, as <c>train</c> does); returns the bundle and the detector.
    /// </summary>
    public static TrainedBundle Train(IReadOnlyList<Frame> frames, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        if (frames.Count < 10)
        {
            throw new ArgumentException($"commissioning needs at least 10 normal frames, got {frames.Count} (are the cameras synthetic?)", nameof(frames));
        }

        var set = new TrainingSet(
            [new FrameClip("commissioning", frames.Where((_, i) => i % 5 != 4).ToArray())],
            [new FrameClip("commissioning-held-out", frames.Where((_, i) => i % 5 == 4).ToArray())],
            TrainingFrames.AllNormal,
            options.Percentile);
        var autoencoder = new AutoencoderOptions
        {
            Size = options.InputSize, Width = 16, Code = 256, Epochs = options.Epochs, Batch = 16, LearningRate = 2e-3, ColourJitter = false,
        };
        return DetectorLifecycle.Train(new AutoencoderDefinition(), autoencoder, set, new FitContext(CPU, Seed: 0, progress), TimeProvider.System);
    }

    /// <summary><see cref="Train"/>, as the streaming scorer a worker uses.</summary>
    public static DetectorFrameScorer TrainAutoencoder(IReadOnlyList<Frame> frames, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        var trained = Train(frames, options, progress);
        return new DetectorFrameScorer(trained.Detector, trained.Bundle.Manifest.Calibrations[trained.Detector.Variants[0]], options.GridSize);
    }
}
