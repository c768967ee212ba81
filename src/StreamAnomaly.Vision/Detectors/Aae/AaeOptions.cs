using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Vision.Detectors.Autoencoder;

namespace StreamAnomaly.Vision.Detectors.Aae;

/// <summary>
/// Options of the adversarial autoencoder: the family's network, optimiser and scoring
/// (<see cref="AutoencoderFamilyOptions"/>), the latent discriminator's width and the weight of
/// the encoder's adversarial term.
/// </summary>
public sealed record AaeOptions : AutoencoderFamilyOptions
{
    [Description("Passes over the training frames")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 10;

    [Description("Units in each of the latent discriminator's two hidden layers (training only: not in the bundle)")]
    [Range(1, 8192, ErrorMessage = Between)]
    public int Hidden { get; init; } = 256;

    [Description("Weight of the encoder's adversarial term (fool the discriminator) against the mean squared reconstruction error")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double Adversarial { get; init; } = 0.01;
}
