using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Synthetic.Live;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
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

    /// <summary>Trains and calibrates the autoencoder on <paramref name="frames"/>; returns a streaming scorer.</summary>
    public static DetectorFrameScorer TrainAutoencoder(IReadOnlyList<Frame> frames, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        if (frames.Count < 10)
        {
            throw new ArgumentException($"commissioning needs at least 10 normal frames, got {frames.Count} (are the cameras synthetic?)", nameof(frames));
        }

        var train = frames.Where((_, i) => i % 5 != 4).ToArray();
        var held = frames.Where((_, i) => i % 5 == 4).ToArray();
        var shape = new AutoencoderShape(options.InputSize, Width: 16, Code: 256);
        AutoencoderDetector detector;
        using (var tensor = FrameTensors.ToByteTensor(train, options.InputSize, options.InputSize))
        {
            detector = AutoencoderTrainer.Train(tensor, shape, new AutoencoderTraining(options.Epochs, BatchSize: 16, LearningRate: 2e-3, ColourJitter: false, Seed: 0), CPU, progress);
        }

        var scores = detector.ScoreSequence(held).Select(static s => s.RawScore).ToArray();
        return new DetectorFrameScorer(detector, ScoreCalibration.Fit(scores, options.Percentile), options.GridSize);
    }
}
