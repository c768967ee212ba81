using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.Lof;

/// <summary>
/// Options of the local outlier factor detector: one embedding per frame (the pretrained ImageNet
/// ResNet-18's layer2 and layer3 features averaged over the frame), the normal frames' embeddings
/// kept, and LOF (Breunig et al. 2000) over their nearest neighbours.
/// </summary>
public sealed record LofOptions : DetectorOptions
{
    [Description("Side of the square input of the pretrained ResNet-18, pixels (multiple of 32; 224 = ImageNet's)")]
    [Range(32, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 224;

    [Description("Neighbours k of the local outlier factor (MinPts)")]
    [Range(1, 200, ErrorMessage = Between)]
    public int Neighbours { get; init; } = 20;

    [Description("Most normal frames kept (a seeded random subset of the training frames beyond it); bounds the memory and the cost of scoring")]
    [Range(2, 100000, ErrorMessage = Between)]
    public int MaxFrames { get; init; } = 10000;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 32 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 32");
        }

        if (Neighbours >= MaxFrames)
        {
            yield return Fail(nameof(Neighbours), $"must be below maxFrames ({MaxFrames})");
        }
    }
}
