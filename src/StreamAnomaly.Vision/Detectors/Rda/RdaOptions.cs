using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Vision.Detectors.Autoencoder;

namespace StreamAnomaly.Vision.Detectors.Rda;

/// <summary>
/// Options of the robust deep autoencoder (Zhou and Paffenroth 2017): the family's network,
/// optimiser and scoring (<see cref="AutoencoderFamilyOptions"/>), how many times the training
/// alternates between the autoencoder and the sparse part, and the l1 threshold lambda.
/// </summary>
public sealed record RdaOptions : AutoencoderFamilyOptions
{
    [Description("Alternations: train the autoencoder on L = X - S, then set S = shrink_lambda(X - AE(L))")]
    [Range(1, 1000, ErrorMessage = Between)]
    public int Iterations { get; init; } = 5;

    [Description("Passes over the training frames in each iteration")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 2;

    [Description("l1 soft threshold lambda on pixel values in [0, 1]: residuals below it stay in L, the excess moves to the sparse part S")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double Lambda { get; init; } = 0.1;
}
