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
        if (frames.dim() != 4 || frames.shape[1] != 3 || frames.shape[2] != options.Size || frames.shape[3] != options.Size)
        {
            throw new ArgumentException($"training frames must be [N, 3, {options.Size}, {options.Size}], got [{string.Join(", ", frames.shape)}]", nameof(frames));
        }

        if (frames.shape[0] == 0)
        {
            throw new ArgumentException("no training frames", nameof(frames));
        }

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
            var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(picks)), context.Device);
            if (options.ColourJitter)
            {
                batch = ColourJitter.Apply(batch, generator, context.Device);
            }

            return nn.functional.mse_loss(model.call(batch), batch);
        });
        model.eval();
        return loss;
    }
}
