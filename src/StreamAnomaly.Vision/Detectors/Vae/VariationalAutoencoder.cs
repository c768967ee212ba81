using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Vae;

/// <summary>
/// A convolutional variational autoencoder (Kingma and Welling 2014) on the baseline's layout
/// (<see cref="ConvAutoencoder"/>): the same four stride-2 convolutions down to
/// [N, 2w, S/16, S/16], two linear heads to the mean and the log-variance of a <c>code</c>-float
/// Gaussian latent, and the baseline's decoder from a latent to the image. <see cref="forward"/>
/// decodes the mean latent (what scoring uses); training decodes a sample
/// (<see cref="Sample"/>). S must be a multiple of 16.
/// </summary>
public sealed class VariationalAutoencoder : Module<Tensor, Tensor>
{
    // Log-variances are clamped to +-16, so exp() cannot overflow early in training (held: see HeldScalars).
    private static readonly Scalar LogVarianceLow = (-16.0).ToScalar();
    private static readonly Scalar LogVarianceHigh = 16.0.ToScalar();

    private readonly Sequential encoder;
    private readonly Linear to_mean;
    private readonly Linear to_log_variance;
    private readonly Linear from_code;
    private readonly Sequential decoder;
    private readonly long[] gridShape;

    public VariationalAutoencoder(int inputSize, int width = 32, int code = 512) : base(nameof(VariationalAutoencoder))
    {
        if (inputSize < 16 || inputSize % 16 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "input size must be a positive multiple of 16");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(code);
        InputSize = inputSize;
        CodeSize = code;

        var channels = ConvStack.Channels(width);
        var grid = inputSize / 16;
        gridShape = [channels[4], grid, grid];
        var flat = channels[4] * grid * grid;

        encoder = ConvStack.Down(channels);
        to_mean = Linear(flat, code);
        to_log_variance = Linear(flat, code);
        from_code = Linear(code, flat);
        decoder = ConvStack.Up(channels);

        RegisterComponents();
    }

    /// <summary>Side of the square input in pixels.</summary>
    public int InputSize { get; }

    /// <summary>Dimension of the latent.</summary>
    public int CodeSize { get; }

    /// <summary>The decoding of the mean latent of <paramref name="input"/> ([N, 3, S, S] in [0, 1]), same shape.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Decode(Encode(input).Mean).MoveToOuterDisposeScope();
    }

    /// <summary>The posterior of <paramref name="input"/>: mean and log-variance of the latent, [N, code] each.</summary>
    public (Tensor Mean, Tensor LogVariance) Encode(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = encoder.call(input).flatten(1);
        var mean = to_mean.call(features);
        var logVariance = to_log_variance.call(features).clamp(LogVarianceLow, LogVarianceHigh);
        return (mean.MoveToOuterDisposeScope(), logVariance.MoveToOuterDisposeScope());
    }

    /// <summary>The image a latent [N, code] decodes to: [N, 3, S, S] in [0, 1].</summary>
    public Tensor Decode(Tensor code) => ConvAutoencoder.DecodeGrid(from_code, decoder, code, gridShape);

    /// <summary>The reparameterisation: mean + exp(log-variance / 2) * <paramref name="noise"/> (standard normal, [N, code]), differentiable in mean and log-variance.</summary>
    public static Tensor Sample(Tensor mean, Tensor logVariance, Tensor noise)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVariance);
        using var scope = NewDisposeScope();
        return mean.Plus(logVariance.mul(HeldScalars.Half).exp().mul(noise)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL divergence of each row's diagonal Gaussian N(mean, exp(log-variance)) from N(0, I), in nats:
    /// 0.5 * sum over the latent of (mean^2 + exp(log-variance) - 1 - log-variance); [N].
    /// </summary>
    public static Tensor Divergence(Tensor mean, Tensor logVariance)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVariance);
        using var scope = NewDisposeScope();
        var terms = mean.square().Plus(logVariance.exp()).sub(HeldScalars.One).sub(logVariance);
        return terms.sum([1]).mul(HeldScalars.Half).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encoder.Dispose();
            to_mean.Dispose();
            to_log_variance.Dispose();
            from_code.Dispose();
            decoder.Dispose();
        }

        base.Dispose(disposing);
    }
}
