using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.CutPaste;

/// <summary>
/// Options of the CutPaste detector (Li et al. 2021): synthetic defects cut from the normal frames
/// themselves, a head on the frozen pretrained ResNet-18 trained to tell them from normal frames,
/// and a Gaussian of the normal frames' embeddings whose Mahalanobis distance is the score.
/// </summary>
public sealed record CutPasteOptions : DetectorOptions
{
    [Description("Side of the square input of the pretrained ResNet-18, pixels (multiple of 32; 224 = ImageNet's)")]
    [Range(32, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 128;

    [Description("Augmented copies of each training frame per synthetic defect (one CutPaste and one scar copy each); the normal class is weighted as many times")]
    [Range(1, 16, ErrorMessage = Between)]
    public int Copies { get; init; } = 1;

    [Description("Jitter each pasted piece's brightness, contrast and channel gains by up to 10 % (the paper's colour jitter)")]
    public bool ColourJitter { get; init; } = true;

    [Description("Width of the projection head's hidden layer")]
    [Range(1, 4096, ErrorMessage = Between)]
    public int Hidden { get; init; } = 512;

    [Description("Dimension of the embedding the Gaussian models (the projection head's output)")]
    [Range(2, 1024, ErrorMessage = Between)]
    public int Embedding { get; init; } = 128;

    [Description("Passes of the head's training over the (fixed) augmented training set")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 30;

    [Description("Samples per optimisation step of the head")]
    [Range(2, 4096, ErrorMessage = Between)]
    public int Batch { get; init; } = 64;

    [Description("Adam learning rate of the head")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double LearningRate { get; init; } = 1e-3;

    [Description("Shrink the Gaussian's covariance by Ledoit and Wolf's estimate (the paper's); off = by 'shrinkage'")]
    public bool LedoitWolf { get; init; } = true;

    [Description("Covariance shrinkage towards a scaled identity when ledoitWolf is off (0 = the empirical covariance)")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double Shrinkage { get; init; } = 0.1;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 32 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 32");
        }

        if (Embedding > Hidden)
        {
            yield return Fail(nameof(Embedding), $"must not exceed hidden ({Hidden})");
        }
    }
}
