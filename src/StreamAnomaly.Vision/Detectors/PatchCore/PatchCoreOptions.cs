using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>
/// Options of the PatchCore detector: locally aware patch features of the pretrained ImageNet
/// ResNet-18 (layer2 and layer3), a memory bank of them reduced by greedy coreset selection, and
/// the nearest-neighbour scoring.
/// </summary>
public sealed record PatchCoreOptions : DetectorOptions
{
    [Description("Side of the square input of the pretrained ResNet-18, pixels (multiple of 32; 224 = ImageNet's)")]
    [Range(32, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 224;

    [Description("Side of the neighbourhood each patch feature is averaged over (PatchCore's locally aware features; odd, 1 = none)")]
    [Range(1, 9, ErrorMessage = Between)]
    public int Neighbourhood { get; init; } = 3;

    [Description("Share of the training patches kept in the memory bank (greedy k-center coreset)")]
    [Range(0.0001, 1.0, ErrorMessage = Between)]
    public double CoresetFraction { get; init; } = 0.01;

    [Description("Dimensions of the random projection the coreset selection measures distances in (0 = the full features)")]
    [Range(0, 4096, ErrorMessage = Between)]
    public int Projection { get; init; } = 128;

    [Description("Training frames whose patches are reduced together; bounds the memory of fitting (the bank is the union of each chunk's coreset)")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int ChunkFrames { get; init; } = 256;

    [Description("Phase context: learn the machine cycle and count a normal patch seen at another moment of it as this much farther, in spreads of the patch features per whole cycle (0 = any moment matches)")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double PhaseWeight { get; init; }

    [Description("Position context: count a normal patch seen elsewhere in the frame as this much farther, in spreads of the patch features per frame side (0 = any place matches)")]
    [Range(0.0, 1000.0, ErrorMessage = Between)]
    public double PositionWeight { get; init; }

    /// <summary>Whether the patch features carry their context (<see cref="PhaseWeight"/> or <see cref="PositionWeight"/> above 0).</summary>
    [JsonIgnore]
    public bool HasContext => PhaseWeight > 0 || PositionWeight > 0;

    [Description("Gaussian smoothing of the anomaly map, in input pixels (0 = none)")]
    [Range(0.0, 64.0, ErrorMessage = Between)]
    [ScoringOption]
    public double BlurSigma { get; init; } = 4;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 32 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 32");
        }

        if (Neighbourhood % 2 == 0)
        {
            yield return Fail(nameof(Neighbourhood), "must be odd");
        }
    }
}
