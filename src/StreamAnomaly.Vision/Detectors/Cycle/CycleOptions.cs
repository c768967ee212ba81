using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.Cycle;

/// <summary>
/// Options of the cycle-phase timing detector: the pretrained ResNet-18 layer3 features it tells
/// phases apart with, the window of frames whose timing it checks and the normal speed band.
/// </summary>
public sealed record CycleOptions : DetectorOptions
{
    [Description("Side of the square input of the pretrained ResNet-18, pixels (multiple of 32); layer3 sees it as a grid of (side / 16)^2 cells")]
    [Range(32, 512, ErrorMessage = Between)]
    public int Size { get; init; } = 128;

    [Description("Frames whose timing one score checks, as a share of the learned cycle (at least 2 frames)")]
    [Range(0.05, 2.0, ErrorMessage = Between)]
    public double WindowCycles { get; init; } = 0.3;

    [Description("Relative speed change still normal: paths from 1 / (1 + t) to 1 + t times the learned pace are allowed")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    [ScoringOption]
    public double SpeedTolerance { get; init; } = 0.2;

    [Description("Speeds tried inside the band (log-spaced; odd counts include the learned pace)")]
    [Range(1, 41, ErrorMessage = Between)]
    [ScoringOption]
    public int SpeedSteps { get; init; } = 9;

    [Description("Shortest machine cycle looked for, frames")]
    [Range(3, 10000, ErrorMessage = Between)]
    public int MinPeriod { get; init; } = 4;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 32 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 32");
        }
    }
}
