using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Training;

/// <summary>Optimisation settings for the autoencoder.</summary>
/// <param name="Epochs">Passes over the training frames.</param>
/// <param name="BatchSize">Frames per optimisation step.</param>
/// <param name="LearningRate">Adam learning rate.</param>
/// <param name="ColourJitter">Random brightness/contrast per frame, so unseen colours still reconstruct (paper 1, stage 1).</param>
/// <param name="Seed">Seeds weight initialisation, shuffling and augmentation.</param>
public sealed record AutoencoderTraining(int Epochs = 10, int BatchSize = 16, double LearningRate = 1e-3, bool ColourJitter = true, int Seed = 0);

/// <summary>Trains <see cref="ConvAutoencoder"/> on normal frames with a mean-squared-error loss.</summary>
public static class AutoencoderTrainer
{
    /// <summary>
    /// Trains a new autoencoder on <paramref name="frames"/> (uint8 [N, 3, S, S], S = shape's input
    /// size; see <see cref="FrameTensors.ToByteTensor"/>).
    /// </summary>
    public static AutoencoderDetector Train(
        Tensor frames,
        AutoencoderShape shape,
        AutoencoderTraining training,
        Device device,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(training);
        if (frames.dim() != 4 || frames.shape[1] != 3 || frames.shape[2] != shape.InputSize || frames.shape[3] != shape.InputSize)
        {
            throw new ArgumentException($"training frames must be [N, 3, {shape.InputSize}, {shape.InputSize}], got [{string.Join(", ", frames.shape)}]", nameof(frames));
        }

        if (frames.shape[0] == 0)
        {
            throw new ArgumentException("no training frames", nameof(frames));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(training.Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(training.BatchSize);

        random.manual_seed(training.Seed);
        var model = new ConvAutoencoder(shape.InputSize, shape.Width, shape.Code);
        model.to(device);
        try
        {
            Fit(model, frames, training, device, progress, cancellationToken);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return new AutoencoderDetector(model, shape, device);
    }

    private static void Fit(
        ConvAutoencoder model,
        Tensor frames,
        AutoencoderTraining training,
        Device device,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        using var generator = new Generator((ulong)training.Seed);
        using var optimizer = optim.Adam(model.parameters(), training.LearningRate);
        model.train();
        MiniBatchLoop.Run(optimizer, frames.shape[0], training.BatchSize, training.Epochs, AutoencoderDetector.Name, generator, progress, cancellationToken, picks =>
        {
            var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(picks)), device);
            if (training.ColourJitter)
            {
                batch = ColourJitter.Apply(batch, generator, device);
            }

            return nn.functional.mse_loss(model.call(batch), batch);
        });
        model.eval();
    }
}
