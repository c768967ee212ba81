using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Aae;

/// <summary>
/// The adversarial autoencoder's critic (Makhzani et al. 2016): a small MLP on a latent code
/// [N, code] -> [N] logits, high for draws from the prior N(0, I), low for the encoder's codes.
/// Two hidden layers of <c>hidden</c> units with LeakyReLU(0.2). Used only in training.
/// </summary>
public sealed class LatentDiscriminator : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public LatentDiscriminator(int code, int hidden) : base(nameof(LatentDiscriminator))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(code);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        layers = Sequential(Linear(code, hidden), LeakyReLU(0.2), Linear(hidden, hidden), LeakyReLU(0.2), Linear(hidden, 1));
        RegisterComponents();
    }

    /// <summary>Logits [N] that <paramref name="code"/> [N, code] was drawn from the prior.</summary>
    public override Tensor forward(Tensor code)
    {
        using var scope = NewDisposeScope();
        return layers.call(code).squeeze(1).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
