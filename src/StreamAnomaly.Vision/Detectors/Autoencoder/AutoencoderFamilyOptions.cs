using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.Autoencoder;

/// <summary>
/// What the autoencoder family of issue 25 (<c>vae</c>, <c>aae</c>, <c>rda</c>) shares with the
/// baseline <see cref="AutoencoderOptions"/>: the same convolutional network (<see cref="ConvAutoencoder"/>'s
/// layout), its optimiser and augmentation, and the same scoring (the squared reconstruction
/// residual summed over the frame, or its peak window). Each detector's record adds its own terms.
/// The default width is half the baseline's (16, not 32: a quarter of the convolutions' work), so
/// that a default fit on a few hundred 128 px frames stays within minutes on two CPU cores.
/// </summary>
public abstract record AutoencoderFamilyOptions : DetectorOptions
{
    [Description("Side of the square model input, pixels (multiple of 16)")]
    [Range(16, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 128;

    [Description("Channels of the first convolution (the widest is 4x this)")]
    [Range(1, 256, ErrorMessage = Between)]
    public int Width { get; init; } = 16;

    [Description("Floats in the fully-connected bottleneck (the latent)")]
    [Range(1, 65536, ErrorMessage = Between)]
    public int Code { get; init; } = 512;

    [Description("Score = the largest k x k window of residual, times k^2 (0 = the sum over the frame)")]
    [Range(0, 1024, ErrorMessage = Between)]
    [ScoringOption]
    public int Peak { get; init; }

    [Description("Frames per optimisation step")]
    [Range(1, 4096, ErrorMessage = Between)]
    public int Batch { get; init; } = 16;

    [Description("Adam learning rate")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double LearningRate { get; init; } = 1e-3;

    [Description("Random brightness and contrast per training frame, so unseen colours still reconstruct (paper 1, stage 1)")]
    public bool ColourJitter { get; init; } = true;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 16 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 16");
        }

        if (Peak > Size)
        {
            yield return Fail(nameof(Peak), $"window {Peak} must fit the input ({Size} px)");
        }

        // The bottleneck: the last convolution's 2 x width channels on a (size / 16)^2 grid, to code floats.
        if (LayerLimit(nameof(Code), "bottleneck", 2L * Width * (Size / 16) * (Size / 16) * Code) is { } tooLarge)
        {
            yield return tooLarge;
        }
    }
}
