using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.Ganomaly;

/// <summary>
/// Options of GANomaly (Akcay et al. 2018): an encoder-decoder-encoder generator and a
/// discriminator trained adversarially on normal frames from scratch; the score is the distance
/// between the frame's latent code and the code of its reconstruction.
/// </summary>
public sealed record GanomalyOptions : DetectorOptions
{
    [Description("Side of the square model input, pixels (multiple of 16)")]
    [Range(16, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 64;

    [Description("Channels of the first convolution of each encoder and of the discriminator (the widest is 4x this)")]
    [Range(1, 256, ErrorMessage = Between)]
    public int Width { get; init; } = 16;

    [Description("Floats in the latent code z (the paper's nz = 100)")]
    [Range(1, 65536, ErrorMessage = Between)]
    public int Latent { get; init; } = 100;

    [Description("Weight of the adversarial loss: squared distance of the discriminator's features of the frame and of its reconstruction (paper: 1)")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double AdversarialWeight { get; init; } = 1;

    [Description("Weight of the contextual loss: mean absolute difference of the frame and its reconstruction (paper: 50)")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double ContextualWeight { get; init; } = 50;

    [Description("Weight of the encoder loss: mean squared distance of z and the reconstruction's code (paper: 1)")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double EncoderWeight { get; init; } = 1;

    [Description("Passes over the training frames")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 10;

    [Description("Frames per optimisation step")]
    [Range(1, 4096, ErrorMessage = Between)]
    public int Batch { get; init; } = 16;

    [Description("Adam learning rate of the generator and the discriminator (betas 0.5, 0.999 as in the paper)")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double LearningRate { get; init; } = 2e-4;

    [Description("Random brightness and contrast per training frame, so unseen lighting still reconstructs")]
    public bool ColourJitter { get; init; } = true;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 16 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 16");
        }

        if (AdversarialWeight + ContextualWeight + EncoderWeight <= 0)
        {
            yield return Fail(nameof(ContextualWeight), "the three loss weights cannot all be 0");
        }

        // The largest layer: the linear map between the last convolution's 2 x width channels on a (size / 16)^2 grid and the latent code.
        if (LayerLimit(nameof(Latent), "latent layer", 2L * Width * (Size / 16) * (Size / 16) * Latent) is { } tooLarge)
        {
            yield return tooLarge;
        }
    }
}
