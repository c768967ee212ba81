using StreamAnomaly.Vision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Ganomaly;

/// <summary>
/// An image encoder of GANomaly: the four stride-2 blocks of <see cref="ConvStack.Down"/> take
/// [N, 3, S, S] in [0, 1] to [N, 2w, S/16, S/16], and a linear layer maps that to a latent code [N, nz]
/// (DCGAN's final full-size convolution, written as the linear map it is).
/// </summary>
internal sealed class LatentEncoder : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear to_latent;

    public LatentEncoder(int inputSize, int width, int latent) : base(nameof(LatentEncoder))
    {
        var channels = ConvStack.Channels(width);
        var grid = inputSize / 16;
        features = ConvStack.Down(channels);
        to_latent = Linear(channels[4] * grid * grid, latent);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return to_latent.call(features.call(input).flatten(1)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            to_latent.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>GANomaly's decoder: a linear layer from the code [N, nz] to [N, 2w, S/16, S/16], then <see cref="ConvStack.Up"/> to an image in [0, 1].</summary>
internal sealed class LatentDecoder : Module<Tensor, Tensor>
{
    private readonly Linear from_latent;
    private readonly Sequential decoder;
    private readonly long[] gridShape;

    public LatentDecoder(int inputSize, int width, int latent) : base(nameof(LatentDecoder))
    {
        var channels = ConvStack.Channels(width);
        var grid = inputSize / 16;
        gridShape = [channels[4], grid, grid];
        from_latent = Linear(latent, channels[4] * grid * grid);
        decoder = ConvStack.Up(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latent)
    {
        using var scope = NewDisposeScope();
        var grid = from_latent.call(latent).relu().view([latent.shape[0], .. gridShape]);
        return decoder.call(grid).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            from_latent.Dispose();
            decoder.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>What GANomaly's generator makes of a batch: the code z, the reconstruction x^ and the reconstruction's code z^.</summary>
/// <param name="Latent">z = GE(x), [N, nz].</param>
/// <param name="Reconstruction">x^ = GD(z), [N, 3, S, S] in [0, 1].</param>
/// <param name="ReconstructionLatent">z^ = E(x^), [N, nz].</param>
internal readonly record struct GeneratorOutput(Tensor Latent, Tensor Reconstruction, Tensor ReconstructionLatent);

/// <summary>
/// GANomaly's generator (Akcay et al. 2018): encoder GE, decoder GD and a second encoder E of the
/// same shape as GE, x -> z -> x^ -> z^. Trained on normal frames only, it learns to map them to a
/// code it can rebuild and re-encode; a frame unlike them reconstructs as something normal whose
/// code z^ lies away from its own z. Input side S a multiple of 16.
/// </summary>
internal sealed class GanomalyGenerator : Module<Tensor, GeneratorOutput>
{
    private readonly LatentEncoder encoder;
    private readonly LatentDecoder decoder;
    private readonly LatentEncoder reencoder;

    public GanomalyGenerator(int inputSize, int width, int latent) : base(nameof(GanomalyGenerator))
    {
        if (inputSize < 16 || inputSize % 16 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "input size must be a positive multiple of 16");
        }

        encoder = new LatentEncoder(inputSize, width, latent);
        decoder = new LatentDecoder(inputSize, width, latent);
        reencoder = new LatentEncoder(inputSize, width, latent);
        RegisterComponents();
    }

    public override GeneratorOutput forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var latent = encoder.call(input);
        var reconstruction = decoder.call(latent);
        var again = reencoder.call(reconstruction);
        return new GeneratorOutput(latent.MoveToOuterDisposeScope(), reconstruction.MoveToOuterDisposeScope(), again.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// GANomaly's anomaly score of each frame of a batch [N, 3, S, S]: the squared distance of its
    /// code and its reconstruction's, <c>||GE(x) - E(GD(GE(x)))||^2</c>, [N].
    /// </summary>
    public Tensor Score(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = forward(input);
        return LatentDistance(output.Latent, output.ReconstructionLatent).MoveToOuterDisposeScope();
    }

    /// <summary>Row-wise squared Euclidean distance of two codes [N, nz] -> [N].</summary>
    public static Tensor LatentDistance(Tensor latent, Tensor reconstructionLatent) => latent.sub(reconstructionLatent).square().sum([1]);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encoder.Dispose();
            decoder.Dispose();
            reencoder.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// GANomaly's discriminator: the same convolution stack as an encoder, its output
/// [N, 2w, S/16, S/16] flattened as the features f(x) the generator's adversarial loss matches, and a
/// linear layer to one logit of "a real frame" (not a reconstruction).
/// </summary>
internal sealed class GanomalyDiscriminator : Module<Tensor, (Tensor Logit, Tensor Features)>
{
    private readonly Sequential features;
    private readonly Linear classifier;

    public GanomalyDiscriminator(int inputSize, int width) : base(nameof(GanomalyDiscriminator))
    {
        var channels = ConvStack.Channels(width);
        var grid = inputSize / 16;
        features = ConvStack.Down(channels);
        classifier = Linear(channels[4] * grid * grid, 1);
        RegisterComponents();
    }

    /// <returns>The logit [N] and the features [N, 2w * (S/16)^2].</returns>
    public override (Tensor Logit, Tensor Features) forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var f = features.call(input).flatten(1);
        var logit = classifier.call(f).squeeze(1);
        return (logit.MoveToOuterDisposeScope(), f.MoveToOuterDisposeScope());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            classifier.Dispose();
        }

        base.Dispose(disposing);
    }
}
