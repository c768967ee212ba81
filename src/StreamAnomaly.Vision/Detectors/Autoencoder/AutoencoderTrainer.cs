using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Autoencoder;

/// <summary>Trains <see cref="ConvAutoencoder"/> on normal frames with a mean-squared-error loss.</summary>
public static class AutoencoderTrainer
{
    /// <summary>
    /// Trains a new autoencoder on <paramref name="frames"/> (uint8 [N, 3, S, S], S =
    /// <see cref="AutoencoderOptions.Size"/>; see <see cref="FrameTensors.ToByteTensor"/>); returns
    /// it with the last epoch's mean loss.
    /// </summary>
    public static (AutoencoderDetector Detector, double FinalLoss) Train(Tensor frames, AutoencoderOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        CheckFrames(frames, options.Size);
        random.manual_seed(context.Seed);
        var model = new ConvAutoencoder(options.Size, options.Width, options.Code);
        model.to(context.Device);
        try
        {
            var loss = Fit(model, frames, options, context);
            return (new AutoencoderDetector(model, options, context.Device), loss);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static double Fit(ConvAutoencoder model, Tensor frames, AutoencoderOptions options, FitContext context)
    {
        using var generator = new Generator((ulong)context.Seed);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        model.train();
        var loss = MiniBatchLoop.Run(optimizer, frames.shape[0], options.Batch, options.Epochs, AutoencoderDetector.Name, generator, context.Progress, context.CancellationToken, picks =>
        {
            var batch = TrainingBatch(frames, picks, options.ColourJitter, generator, context.Device);
            return nn.functional.mse_loss(model.call(batch), batch);
        });
        model.eval();
        return loss;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="frames"/> is a non-empty uint8
    /// training set [N, 3, <paramref name="size"/>, <paramref name="size"/>] (shared by the autoencoder family's trainers).
    /// </summary>
    internal static void CheckFrames(Tensor frames, int size)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.dim() != 4 || frames.shape[1] != 3 || frames.shape[2] != size || frames.shape[3] != size)
        {
            throw new ArgumentException($"training frames must be [N, 3, {size}, {size}], got [{string.Join(", ", frames.shape)}]", nameof(frames));
        }

        if (frames.shape[0] == 0)
        {
            throw new ArgumentException("no training frames", nameof(frames));
        }
    }

    /// <summary>
    /// The training frames <paramref name="picks"/> of uint8 <paramref name="frames"/> as a float
    /// batch in [0, 1] on <paramref name="device"/>, colour-jittered when <paramref name="jitter"/>.
    /// </summary>
    internal static Tensor TrainingBatch(Tensor frames, long[] picks, bool jitter, Generator generator, Device device)
    {
        var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(picks)), device);
        return jitter ? ColourJitter.Apply(batch, generator, device) : batch;
    }
}
