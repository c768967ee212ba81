using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.IsolationForest;

/// <summary>
/// Options of the isolation forest detector (Liu, Ting and Zhou 2008): one embedding per frame (the
/// pretrained ImageNet ResNet-18's layer2 and layer3 features averaged over the frame) and a forest
/// of random trees grown on subsamples of the normal frames' embeddings.
/// </summary>
public sealed record IsolationForestOptions : DetectorOptions
{
    [Description("Side of the square input of the pretrained ResNet-18, pixels (multiple of 32; 224 = ImageNet's)")]
    [Range(32, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 224;

    [Description("Trees in the forest (the paper's t; path lengths converge by about 100)")]
    [Range(1, 1000, ErrorMessage = Between)]
    public int Trees { get; init; } = 100;

    [Description("Normal frames each tree is grown on, a random subsample (the paper's psi; 256 in the paper); trees are cut at depth ceil(log2 psi)")]
    [Range(2, 4096, ErrorMessage = Between)]
    public int Samples { get; init; } = 256;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 32 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 32");
        }
    }
}
