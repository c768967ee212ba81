using TorchSharp;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>
/// Trains <see cref="AnoSegNet"/> from scratch: every mini-batch of normal frames gets synthetic
/// anomalies (<see cref="HardAugmentation"/>) on a share of its frames, and the network learns to
/// output their exact masks (and empty maps on the untouched frames) under
/// <see cref="AnoSegLoss.Compute"/>.
/// </summary>
public static class AnoSegTrainer
{
    /// <summary>
    /// Trains a new detector on <paramref name="frames"/> (uint8 [N, 3, S, S], S = <see cref="AnoSegOptions.Size"/>);
    /// returns it with the last epoch's mean loss.
    /// </summary>
    public static (AnoSegDetector Detector, double FinalLoss) Train(Tensor frames, AnoSegOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        AutoencoderTrainer.CheckFrames(frames, options.Size);

        random.manual_seed(context.Seed);
        var model = new AnoSegNet(options.Width);
        model.to(context.Device);
        try
        {
            using var generator = new Generator((ulong)context.Seed);
            using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
            var augmentation = new Random(context.Seed);
            model.train();
            var loss = MiniBatchLoop.Run(optimizer, frames.shape[0], options.Batch, options.Epochs, AnoSegDetector.Name, generator, context.Progress, context.CancellationToken, picks =>
            {
                var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(picks)), context.Device);
                var (augmented, masks) = HardAugmentation.Apply(batch, options.AnomalyShare, options.MinPatch, options.MaxPatch, augmentation);
                return AnoSegLoss.Compute(model.call(augmented), masks, options.DiceWeight);
            });
            model.eval();
            return (new AnoSegDetector(model, options, context.Device), loss);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
