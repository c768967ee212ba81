using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Ganomaly;

/// <summary>The last epoch's mean of each of GANomaly's losses.</summary>
/// <param name="Generator">The weighted generator loss that was minimised.</param>
/// <param name="Adversarial">Mean squared distance of the discriminator's features of frame and reconstruction.</param>
/// <param name="Contextual">Mean absolute difference of frame and reconstruction.</param>
/// <param name="Encoder">Mean squared distance of z and z^.</param>
/// <param name="Discriminator">Binary cross-entropy of the discriminator on real frames and reconstructions (mean of the two).</param>
public sealed record GanomalyLosses(double Generator, double Adversarial, double Contextual, double Encoder, double Discriminator);

/// <summary>
/// Trains GANomaly on normal frames. Each mini-batch: the generator makes z, x^ and z^; the
/// discriminator takes one Adam step on binary cross-entropy of real frames (label 1) against the
/// reconstructions (label 0, detached); then the generator takes one Adam step on
/// <c>w_adv * mean (f(x) - f(x^))^2 + w_con * mean |x - x^| + w_enc * mean (z - z^)^2</c>, f being the
/// discriminator's (just updated) features. Adam with betas (0.5, 0.999) for both, as in the paper.
/// </summary>
internal static class GanomalyTrainer
{
    public static (GanomalyDetector Detector, GanomalyLosses Losses) Train(Tensor frames, GanomalyOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        AutoencoderTrainer.CheckFrames(frames, options.Size);

        random.manual_seed(context.Seed);
        var generator = new GanomalyGenerator(options.Size, options.Width, options.Latent);
        try
        {
            using var discriminator = new GanomalyDiscriminator(options.Size, options.Width);
            generator.to(context.Device);
            discriminator.to(context.Device);
            var losses = Fit(generator, discriminator, frames, options, context);
            return (new GanomalyDetector(generator, options, context.Device), losses);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    private static GanomalyLosses Fit(GanomalyGenerator generator, GanomalyDiscriminator discriminator, Tensor frames, GanomalyOptions options, FitContext context)
    {
        using var shuffle = new Generator((ulong)context.Seed);
        using var generatorOptimizer = optim.Adam(generator.parameters(), options.LearningRate, beta1: 0.5, beta2: 0.999);
        using var discriminatorOptimizer = optim.Adam(discriminator.parameters(), options.LearningRate, beta1: 0.5, beta2: 0.999);
        using var adversarialWeight = options.AdversarialWeight.ToScalar();
        using var contextualWeight = options.ContextualWeight.ToScalar();
        using var encoderWeight = options.EncoderWeight.ToScalar();
        using var half = 0.5.ToScalar();
        var terms = new List<double[]>(); // per step: adversarial, contextual, encoder, discriminator
        generator.train();
        discriminator.train();
        var loss = MiniBatchLoop.Run(generatorOptimizer, frames.shape[0], options.Batch, options.Epochs, GanomalyDetector.Name, shuffle, context.Progress, context.CancellationToken, picks =>
        {
            var batch = FrameTensors.ToUnitFloat(frames.index_select(0, tensor(picks)), context.Device);
            if (options.ColourJitter)
            {
                batch = ColourJitter.Apply(batch, shuffle, context.Device);
            }

            var output = generator.call(batch);

            discriminatorOptimizer.zero_grad();
            var real = discriminator.call(batch).Logit;
            var fake = discriminator.call(output.Reconstruction.detach()).Logit;
            var discriminatorLoss = functional.binary_cross_entropy_with_logits(real, ones_like(real))
                .add(functional.binary_cross_entropy_with_logits(fake, zeros_like(fake)), HeldScalars.One)
                .mul(half);
            discriminatorLoss.backward();
            discriminatorOptimizer.step();

            Tensor realFeatures;
            using (no_grad())
            {
                realFeatures = discriminator.call(batch).Features;
            }

            var adversarial = functional.mse_loss(discriminator.call(output.Reconstruction).Features, realFeatures);
            var contextual = functional.l1_loss(output.Reconstruction, batch);
            var encoder = functional.mse_loss(output.ReconstructionLatent, output.Latent);
            terms.Add([adversarial.item<float>(), contextual.item<float>(), encoder.item<float>(), discriminatorLoss.item<float>()]);
            return adversarial.mul(adversarialWeight).Plus(contextual.mul(contextualWeight)).Plus(encoder.mul(encoderWeight));
        });
        generator.eval();
        var lastEpoch = terms.TakeLast(MiniBatchLoop.StepsPerEpoch(frames.shape[0], options.Batch)).ToArray();
        double Mean(int term) => lastEpoch.Average(t => t[term]);
        return new GanomalyLosses(loss, Mean(0), Mean(1), Mean(2), Mean(3));
    }
}
