using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Aae;

/// <summary>
/// Trains an adversarial autoencoder (Makhzani et al. 2016): the baseline's deterministic
/// <see cref="ConvAutoencoder"/>, whose codes a <see cref="LatentDiscriminator"/> learns to tell
/// from draws of the prior N(0, I). Each mini-batch alternates (1) a discriminator step on prior
/// draws (label 1) against the batch's codes (label 0, detached) and (2) an autoencoder step on
/// the mean squared reconstruction error plus <see cref="AaeOptions.Adversarial"/> times the
/// generator loss (the discriminator's binary cross-entropy of the codes against label 1), which
/// only the encoder feels. Makhzani et al. run the reconstruction and the generator updates as two
/// steps; here they share one, weighted.
/// </summary>
public static class AaeTrainer
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "aae";

    /// <summary>What one fit ends with: the detector and the last epoch's means of the autoencoder's loss, its reconstruction error and the discriminator's loss (2 ln 2 = 1.386 when it cannot tell codes from prior draws).</summary>
    public sealed record Result(ReconstructionDetector Detector, double FinalLoss, double FinalReconstruction, double FinalDiscriminatorLoss);

    /// <summary>Trains a new adversarial autoencoder on <paramref name="frames"/> (uint8 [N, 3, S, S], S = <see cref="AutoencoderFamilyOptions.Size"/>).</summary>
    public static Result Train(Tensor frames, AaeOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        AutoencoderTrainer.CheckFrames(frames, options.Size);
        random.manual_seed(context.Seed);
        var model = new ConvAutoencoder(options.Size, options.Width, options.Code);
        try
        {
            using var discriminator = new LatentDiscriminator(options.Code, options.Hidden);
            model.to(context.Device);
            discriminator.to(context.Device);
            var (loss, reconstruction, critic) = Fit(model, discriminator, frames, options, context);
            return new Result(Detector(model, options, context.Device), loss, reconstruction, critic);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The detector of a (trained or loaded) autoencoder <paramref name="model"/>, which it owns: the baseline's residual.</summary>
    public static ReconstructionDetector Detector(ConvAutoencoder model, AaeOptions options, Device device) => ReconstructionDetector.Of(Name, model, options, device);

    private static (double Loss, double Reconstruction, double Critic) Fit(ConvAutoencoder model, LatentDiscriminator discriminator, Tensor frames, AaeOptions options, FitContext context)
    {
        using var generator = new Generator((ulong)context.Seed);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        using var criticOptimizer = optim.Adam(discriminator.parameters(), options.LearningRate, beta1: 0.5);
        using var weight = options.Adversarial.ToScalar();
        var steps = MiniBatchLoop.StepsPerEpoch(frames.shape[0], options.Batch);
        var (step, reconstructionSum, criticSum) = (0, 0.0, 0.0);
        model.train();
        discriminator.train();
        var loss = MiniBatchLoop.Run(optimizer, frames.shape[0], options.Batch, options.Epochs, Name, generator, context.Progress, context.CancellationToken, picks =>
        {
            var batch = AutoencoderTrainer.TrainingBatch(frames, picks, options.ColourJitter, generator, context.Device);
            var code = model.Encode(batch);

            // (1) the discriminator: prior draws are real, the encoder's codes fake
            criticOptimizer.zero_grad();
            var prior = randn(code.shape, generator: generator).to(context.Device);
            var real = discriminator.call(prior);
            var fake = discriminator.call(code.detach());
            var critic = nn.functional.binary_cross_entropy_with_logits(real, ones_like(real))
                .Plus(nn.functional.binary_cross_entropy_with_logits(fake, zeros_like(fake)));
            critic.backward();
            criticOptimizer.step();

            // (2) the autoencoder: reconstruct, and make the codes pass for prior draws
            // (this also leaves gradients on the discriminator, which its next zero_grad clears)
            var reconstruction = nn.functional.mse_loss(model.Decode(code), batch);
            var fooled = discriminator.call(code);
            var adversarial = nn.functional.binary_cross_entropy_with_logits(fooled, ones_like(fooled));
            if (step++ % steps == 0)
            {
                (reconstructionSum, criticSum) = (0, 0);
            }

            reconstructionSum += reconstruction.item<float>() / steps;
            criticSum += critic.item<float>() / steps;
            return reconstruction.Plus(adversarial.mul(weight));
        });
        model.eval();
        return (loss, reconstructionSum, criticSum);
    }
}
