using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Temporal.Network;

namespace StreamAnomaly.Vision.Detectors.Temporal;

/// <summary>Options of the temporal masking detector: its two networks, their training, the learned mask and the scoring.</summary>
public sealed record TemporalOptions : DetectorOptions
{
    [Description("Side of the square model input, pixels (multiple of 16: R3D-18 halves it four times)")]
    [Range(16, 1024, ErrorMessage = Between)]
    public int Size { get; init; } = 64;

    [Description("Frames per window T, for the ConvLSTM autoencoder and the R3D-18 clips")]
    [Range(2, 256, ErrorMessage = Between)]
    public int Window { get; init; } = 8;

    [Description("Partitions C of the machine cycle (R3D-18 classes)")]
    [Range(2, 64, ErrorMessage = Between)]
    public int Partitions { get; init; } = 4;

    [Description("Channels of the ConvLSTM autoencoder's first convolution")]
    [Range(1, 256, ErrorMessage = Between)]
    public int AutoencoderWidth { get; init; } = 32;

    [Description("Channels of the ConvLSTM state")]
    [Range(1, 512, ErrorMessage = Between)]
    public int AutoencoderHidden { get; init; } = 64;

    [Description("Floats in the ConvLSTM autoencoder's fully-connected bottleneck")]
    [Range(1, 65536, ErrorMessage = Between)]
    public int AutoencoderCode { get; init; } = 512;

    [Description("Divides R3D-18's 64/128/256/512 channels (1 = the full network; must divide 64)")]
    [Range(1, 64, ErrorMessage = Between)]
    public int MaskWidthDivisor { get; init; } = 8;

    [Description("Initialise R3D-18 by inflating the pretrained ImageNet ResNet-18 (full width: maskWidthDivisor 1)")]
    public bool PretrainedMask { get; init; }

    [Description("Eigen-CAM: how many of R3D-18's last conv layers are averaged")]
    [Range(1, R3D18.MaxActivationLayers, ErrorMessage = Between)]
    [ScoringOption]
    public int CamLayers { get; init; } = 2;

    [Description("Eigen-CAM: map values below this become 0")]
    [Range(0.0, 0.999999, ErrorMessage = Between)]
    [ScoringOption]
    public double CamThreshold { get; init; } = 0.1;

    [Description("Eigen-CAM: odd moving-average window along time, frames")]
    [Range(1, 255, ErrorMessage = Between)]
    [ScoringOption]
    public int CamWindow { get; init; } = 5;

    [Description("Score = the largest k x k window of the masked residual, times k^2 (0 = the paper's sum)")]
    [Range(0, 1024, ErrorMessage = Between)]
    [ScoringOption]
    public int Peak { get; init; }

    [Description("Passes over the ConvLSTM autoencoder's training windows")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 15;

    [Description("Passes over the R3D-18's training clips")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int MaskEpochs { get; init; } = 15;

    [Description("Windows per optimisation step")]
    [Range(1, 4096, ErrorMessage = Between)]
    public int Batch { get; init; } = 16;

    [Description("Adam learning rate of both networks")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double LearningRate { get; init; } = 1e-3;

    [Description("Ramp width T_trans of the smoothed partition labels, frames")]
    [Range(0, 1000, ErrorMessage = Between)]
    public int Transition { get; init; } = 2;

    /// <summary>The learned mask's Eigen-CAM settings.</summary>
    [JsonIgnore]
    public CamSettings Cam => new(CamLayers, CamThreshold, CamWindow);

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 16 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 16");
        }

        if (64 % MaskWidthDivisor != 0)
        {
            yield return Fail(nameof(MaskWidthDivisor), "must divide 64");
        }

        if (PretrainedMask && MaskWidthDivisor != 1)
        {
            yield return Fail(nameof(MaskWidthDivisor), "must be 1 with pretrainedMask (the pretrained network is full width)");
        }

        if (CamWindow % 2 == 0)
        {
            yield return Fail(nameof(CamWindow), "must be odd");
        }

        if (Peak > Size)
        {
            yield return Fail(nameof(Peak), $"window {Peak} must fit the input ({Size} px)");
        }

        // The bottleneck: the ConvLSTM state (or the decoder's 2 x width channels) on a (size / 16)^2 grid, to code floats.
        long cells = (Size / 16) * (Size / 16);
        if (LayerLimit(nameof(AutoencoderCode), "bottleneck", Math.Max(AutoencoderHidden, 2L * AutoencoderWidth) * cells * AutoencoderCode) is { } tooLarge)
        {
            yield return tooLarge;
        }
    }
}
