using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;

namespace StreamAnomaly.Vision.Detectors.Vae;

/// <summary>
/// Options of the variational autoencoder: the family's network, optimiser and scoring
/// (<see cref="AutoencoderFamilyOptions"/>; <c>code</c> is the latent's dimension), the weight of
/// the KL term, and whether the score carries it.
/// </summary>
public sealed record VaeOptions : AutoencoderFamilyOptions
{
    [Description("Passes over the training frames")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 10;

    [Description("Weight of the KL term to N(0, I) against the summed squared error (1 = the ELBO of a Gaussian decoder of variance 1/2 per value; 0.01 = of standard deviation 0.07)")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double Beta { get; init; } = 0.01;

    [Description("Add the frame's KL term (beta * KL / 3, spread evenly over its pixels) to its residual: the score is then the training loss of the mean latent")]
    [ScoringOption]
    public bool Kl { get; init; }
}
