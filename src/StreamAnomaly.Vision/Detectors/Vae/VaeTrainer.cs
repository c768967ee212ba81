using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Vae;

/// <summary>
/// Trains a <see cref="VariationalAutoencoder"/> on normal frames. Per frame the loss is the summed
/// squared error of the decoding of a sampled latent (the reparameterisation) plus
/// <see cref="VaeOptions.Beta"/> times the KL divergence of the posterior from N(0, I), divided by
/// the 3 x S x S values of a frame (so that beta 0 is the baseline's mean squared error and its
/// learning rate carries over); the batch loss is the mean over its frames.
/// </summary>
public static class VaeTrainer
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "vae";

    /// <summary>What one fit ends with: the detector and the last epoch's mean loss, reconstruction term and KL (nats per frame).</summary>
    public sealed record Result(ReconstructionDetector Detector, double FinalLoss, double FinalReconstruction, double FinalDivergence);

    /// <summary>Trains a new VAE on <paramref name="frames"/> (uint8 [N, 3, S, S], S = <see cref="AutoencoderFamilyOptions.Size"/>).</summary>
    public static Result Train(Tensor frames, VaeOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        AutoencoderTrainer.CheckFrames(frames, options.Size);
        random.manual_seed(context.Seed);
        var model = new VariationalAutoencoder(options.Size, options.Width, options.Code);
        model.to(context.Device);
        try
        {
            var (loss, reconstruction, divergence) = Fit(model, frames, options, context);
            return new Result(Detector(model, options, context.Device), loss, reconstruction, divergence);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The detector of a (trained or loaded) <paramref name="model"/>, which it owns.</summary>
    public static ReconstructionDetector Detector(VariationalAutoencoder model, VaeOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        return new ReconstructionDetector(Name, model, batch => ResidualMap(model, batch, options), options, device);
    }

    /// <summary>
    /// Residual maps [N, S, S] of a batch: the baseline's per-pixel squared residual of the mean
    /// latent's decoding, plus with <see cref="VaeOptions.Kl"/> the frame's beta * KL / 3 spread
    /// evenly over its S x S pixels (so the map still sums to the score).
    /// </summary>
    internal static Tensor ResidualMap(VariationalAutoencoder model, Tensor batch, VaeOptions options)
    {
        using var scope = NewDisposeScope();
        var (mean, logVariance) = model.Encode(batch);
        var residual = AutoencoderDetector.Residual(batch, model.Decode(mean));
        if (options.Kl)
        {
            using var share = (options.Beta / 3.0 / (options.Size * options.Size)).ToScalar();
            residual = residual.Plus(VariationalAutoencoder.Divergence(mean, logVariance).mul(share).view(-1, 1, 1));
        }

        return residual.MoveToOuterDisposeScope();
    }

    private static (double Loss, double Reconstruction, double Divergence) Fit(VariationalAutoencoder model, Tensor frames, VaeOptions options, FitContext context)
    {
        using var generator = new Generator((ulong)context.Seed);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        using var beta = options.Beta.ToScalar();
        using var values = (3.0 * options.Size * options.Size).ToScalar();
        var steps = MiniBatchLoop.StepsPerEpoch(frames.shape[0], options.Batch);
        var (step, reconstructionSum, divergenceSum) = (0, 0.0, 0.0);
        model.train();
        var loss = MiniBatchLoop.Run(optimizer, frames.shape[0], options.Batch, options.Epochs, Name, generator, context.Progress, context.CancellationToken, picks =>
        {
            var batch = AutoencoderTrainer.TrainingBatch(frames, picks, options.ColourJitter, generator, context.Device);
            var (mean, logVariance) = model.Encode(batch);
            var noise = randn(mean.shape, generator: generator).to(context.Device);
            var decoded = model.Decode(VariationalAutoencoder.Sample(mean, logVariance, noise));
            var reconstruction = decoded.sub(batch).square().sum([1, 2, 3]);
            var divergence = VariationalAutoencoder.Divergence(mean, logVariance);
            if (step++ % steps == 0)
            {
                (reconstructionSum, divergenceSum) = (0, 0);
            }

            reconstructionSum += reconstruction.mean().item<float>() / steps;
            divergenceSum += divergence.mean().item<float>() / steps;
            return reconstruction.Plus(divergence.mul(beta)).mean().div(values);
        });
        model.eval();
        return (loss, reconstructionSum / (3.0 * options.Size * options.Size), divergenceSum);
    }
}
