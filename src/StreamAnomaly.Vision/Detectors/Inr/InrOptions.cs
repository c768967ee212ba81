using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Detection;

namespace StreamAnomaly.Vision.Detectors.Inr;

/// <summary>
/// Options of the implicit-neural-representation detector: a SIREN f(x, y) -> colour on a
/// <see cref="Size"/> x <see cref="Size"/> grid, its learned initialisation (fitted to the mean normal
/// frame, then meta-learned with Reptile) and the fixed per-frame step budget that stops each
/// frame's fit early.
/// </summary>
public sealed record InrOptions : DetectorOptions
{
    [Description("Side of the square pixel grid the SIREN represents, pixels (the anomaly map's resolution)")]
    [Range(8, 256, ErrorMessage = Between)]
    public int Size { get; init; } = 64;

    [Description("Units of each hidden sine layer")]
    [Range(4, 1024, ErrorMessage = Between)]
    public int Hidden { get; init; } = 32;

    [Description("Sine layers (the first takes the coordinates); a linear layer to colour follows")]
    [Range(1, 16, ErrorMessage = Between)]
    public int Layers { get; init; } = 3;

    [Description("Frequency omega_0 of every sine layer (SIREN: 30)")]
    [Range(1.0, 1000.0, ErrorMessage = Between)]
    public double Omega { get; init; } = 30;

    [Description("Adam steps each frame is fitted for, from the learned initialisation, before its residual is read (the early stop)")]
    [Range(0, 10000, ErrorMessage = Between)]
    public int Steps { get; init; } = 16;

    [Description("Adam learning rate of each frame's fit (and of Reptile's inner fits)")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double StepRate { get; init; } = 1e-3;

    [Description("Adam steps fitting the initialisation to the mean normal frame (learning rate 1e-4, SIREN's)")]
    [Range(0, 100000, ErrorMessage = Between)]
    public int PrefitSteps { get; init; } = 300;

    [Description("Reptile iterations refining the initialisation on batches of normal frames")]
    [Range(0, 100000, ErrorMessage = Between)]
    public int MetaIterations { get; init; } = 60;

    [Description("Normal frames fitted in parallel per Reptile iteration")]
    [Range(1, 1024, ErrorMessage = Between)]
    public int MetaBatch { get; init; } = 8;

    [Description("Reptile's outer step: the initialisation moves this fraction of the way to the mean fitted weights (decays linearly to 0)")]
    [Range(1e-4, 1.0, ErrorMessage = Between)]
    public double MetaRate { get; init; } = 0.5;

    [Description("Score = the largest k x k window of residual, times k^2 (0 = the sum over the frame)")]
    [Range(0, 256, ErrorMessage = Between)]
    [ScoringOption]
    public int Peak { get; init; } = 8;

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Peak > Size)
        {
            yield return Fail(nameof(Peak), $"window {Peak} must fit the grid ({Size} px)");
        }
    }
}
