using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>
/// Options of AnoSeg (Song et al. 2021): a small U-Net with two coordinate channels, trained from
/// scratch to segment synthetic anomalies made by hard augmentation of normal frames, and the
/// peak window that turns its anomaly map into a frame score.
/// </summary>
public sealed record AnoSegOptions : DetectorOptions
{
    [Description("Side of the square network input, pixels (multiple of 8; the anomaly map's resolution)")]
    [Range(16, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 64;

    [Description("Channels of the U-Net's first level (doubling at each of its three lower levels)")]
    [Range(1, 128, ErrorMessage = Between)]
    public int Width { get; init; } = 8;

    [Description("Passes over the training frames")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 8;

    [Description("Frames per optimisation step")]
    [Range(1, 4096, ErrorMessage = Between)]
    public int Batch { get; init; } = 16;

    [Description("Adam learning rate")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double LearningRate { get; init; } = 5e-3;

    [Description("Share of training frames given a synthetic anomaly (the others teach an empty map)")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double AnomalyShare { get; init; } = 0.6;

    [Description("Smallest side of an augmented patch, as a fraction of the frame side")]
    [Range(0.01, 1.0, ErrorMessage = Between)]
    public double MinPatch { get; init; } = 0.06;

    [Description("Largest side of an augmented patch, as a fraction of the frame side")]
    [Range(0.01, 1.0, ErrorMessage = Between)]
    public double MaxPatch { get; init; } = 0.25;

    [Description("Weight of the soft Dice loss added to the per-pixel binary cross-entropy")]
    [Range(0.0, 100.0, ErrorMessage = Between)]
    public double DiceWeight { get; init; } = 1;

    [Description("Score = the largest k x k window sum of the anomaly map (1 = its maximum)")]
    [Range(1, 1024, ErrorMessage = Between)]
    [ScoringOption]
    public int Peak { get; init; } = 4;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 8 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 8");
        }

        if (Peak > Size)
        {
            yield return Fail(nameof(Peak), $"window {Peak} must fit the input ({Size} px)");
        }

        if (MinPatch > MaxPatch)
        {
            yield return Fail(nameof(MinPatch), $"must not exceed maxPatch ({MaxPatch})");
        }
    }
}
