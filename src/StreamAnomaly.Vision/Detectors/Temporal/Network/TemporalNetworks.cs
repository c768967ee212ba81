using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// The two networks of the temporal masking detector in one container, so that one state dict
/// (keys <c>autoencoder.*</c> and <c>masker.*</c>) holds both: the ConvLSTM autoencoder that scores,
/// and the R3D-18 whose Eigen-CAM attention masks the background. It has no forward of its own.
/// </summary>
public sealed class TemporalNetworks : Module
{
    private readonly ConvLstmAutoencoder autoencoder;
    private readonly R3D18 masker;

    public TemporalNetworks(ConvLstmAutoencoder autoencoder, R3D18 masker) : base(nameof(TemporalNetworks))
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        ArgumentNullException.ThrowIfNull(masker);
        this.autoencoder = autoencoder;
        this.masker = masker;
        RegisterComponents();
    }

    /// <summary>The anomaly detector: sequences [N, T, 3, S, S] -> next-frame predictions.</summary>
    public ConvLstmAutoencoder Autoencoder => autoencoder;

    /// <summary>The masking model: clips [N, T, 3, H, W] -> per-frame partition logits and activations.</summary>
    public R3D18 Masker => masker;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            autoencoder.Dispose();
            masker.Dispose();
        }

        base.Dispose(disposing);
    }
}
