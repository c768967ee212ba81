using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Integrated.Network;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>Backbones of the integrated CNN.</summary>
public enum Backbone
{
    /// <summary>ResNet-18 (basic blocks).</summary>
    Resnet18,

    /// <summary>ResNet-34 (basic blocks).</summary>
    Resnet34,

    /// <summary>ResNet-50 (bottleneck blocks; the paper's).</summary>
    Resnet50,

    /// <summary>The pretrained ImageNet ResNet-18 of the NuGet package (CNTK's: 3 blocks in layer4), its weights as the starting point.</summary>
    Pretrained,
}

/// <summary>
/// Options of the integrated CNN: its network (<see cref="ToNetwork"/>), its three training stages
/// (<see cref="ToTraining"/>) and its scoring.
/// </summary>
public sealed record IntegratedOptions : DetectorOptions
{
    [Description("Side of the square model input, pixels (multiple of 32)")]
    [Range(32, 2048, ErrorMessage = Between)]
    public int Size { get; init; } = 128;

    [Description("Backbone shared by both heads")]
    public Backbone Backbone { get; init; } = Backbone.Resnet18;

    [Description("Pretrained backbone only: keep its ImageNet weights fixed in every stage (the pyramid and both heads still train)")]
    public bool FreezeBackbone { get; init; }

    [Description("Divides every backbone width (1 = full; 2-8 for CPU runs; must divide 64)")]
    [Range(1, 64, ErrorMessage = Between)]
    public int WidthDivisor { get; init; } = 1;

    [Description("Channels of every pyramid level (0 = 256 / widthDivisor, at least 32)")]
    [Range(0, 1024, ErrorMessage = Between)]
    public int PyramidChannels { get; init; }

    [Description("Floats in the reconstruction head's fully-connected bottleneck (512 = 2 KB)")]
    [Range(1, 65536, ErrorMessage = Between)]
    public int Code { get; init; } = 512;

    [Description("Base channel count w of the reconstruction decoder (stages 4w..w)")]
    [Range(1, 256, ErrorMessage = Between)]
    public int DecoderWidth { get; init; } = 32;

    [Description("Channels after the reconstruction head's 1x1 squeeze")]
    [Range(1, 1024, ErrorMessage = Between)]
    public int SqueezeChannels { get; init; } = 64;

    [Description("Prototype masks k of the segmentation head (YOLACT: 32)")]
    [Range(1, 256, ErrorMessage = Between)]
    public int Prototypes { get; init; } = 32;

    [Description("Input pixels per prototype pixel: 1, 2, 4 or 8 (0 = 4 from 256 px up, else 2)")]
    [Range(0, 8, ErrorMessage = Between)]
    public int PrototypeStride { get; init; }

    [Description("Stage 1: epochs of backbone + decoder on background frames")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int Epochs { get; init; } = 15;

    [Description("Stage 2: epochs of the segmentation head on pseudo-labelled normal-object frames")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int SegmentationEpochs { get; init; } = 15;

    [Description("Stage 3: epochs of the decoder alone (backbone and segmentation head frozen)")]
    [Range(1, 100000, ErrorMessage = Between)]
    public int RefitEpochs { get; init; } = 3;

    [Description("Frames per optimisation step")]
    [Range(1, 4096, ErrorMessage = Between)]
    public int Batch { get; init; } = 16;

    [Description("Adam learning rate of every stage (stage 2's first)")]
    [Range(1e-7, 1.0, ErrorMessage = Between)]
    public double LearningRate { get; init; } = 1e-3;

    [Description("Stage 2: fraction of the learning rate left at its last step, reached along a cosine (1 = constant)")]
    [Range(1e-6, 1.0, ErrorMessage = Between)]
    public double SegmentationDecay { get; init; } = 1;

    [Description("Pseudo-label threshold: this percentile of the background residual pixels, each divided by its normal size")]
    [Range(50.0, 100.0, ErrorMessage = Between)]
    public double PseudoLabelPercentile { get; init; } = 99.9;

    [Description("Stage 2: chance per frame of a pasted piece of a labelled object")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double CopyPaste { get; init; } = 0.5;

    [Description("Stage 2: chance per frame of an unlabelled, recoloured decoy, so the head learns what a normal object looks like rather than 'anything new'")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double Decoys { get; init; }

    [Description("Stage 2: share of the decoys that are solid-coloured random polygons (as tools and boxes are)")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    public double SolidDecoys { get; init; }

    [Description("Label category of the stage-1 and stage-3 frames (normal, no object)")]
    [Required(AllowEmptyStrings = false, ErrorMessage = "must not be empty")]
    public string BackgroundCategory { get; init; } = "background";

    [Description("Label category of the stage-2 frames (a normal object in view, e.g. a worker's hand)")]
    [Required(AllowEmptyStrings = false, ErrorMessage = "must not be empty")]
    public string ObjectCategory { get; init; } = "normal-object";

    [Description("Score = the largest k x k window of the masked residual, times k^2 (0 = the paper's sum)")]
    [Range(0, 2048, ErrorMessage = Between)]
    [ScoringOption]
    public int Peak { get; init; }

    [Description("Score the residual divided by its normal size at each pixel (fitted on background frames) instead of the raw residual")]
    [ScoringOption]
    public bool Scaled { get; init; }

    [Description("In-fill passes: detected normal objects are replaced by the reconstruction and the frame reconstructed again (0 = the paper's scoring)")]
    [Range(0, 16, ErrorMessage = Between)]
    [ScoringOption]
    public int Infill { get; init; } = 1;

    [Description("Minimum class score of a detected normal object")]
    [Range(0.0, 1.0, ErrorMessage = Between)]
    [ScoringOption]
    public double DetectionScore { get; init; } = 0.5;

    /// <summary>The network's shape.</summary>
    public IntegratedNetworkOptions ToNetwork() => new()
    {
        Depth = Backbone == Backbone.Pretrained ? ResNet.ImageNet18 : Backbone.ToString().ToLowerInvariant(),
        WidthDivisor = WidthDivisor,
        PyramidChannels = PyramidChannels > 0 ? PyramidChannels : Math.Max(32, 256 / WidthDivisor),
        InputHeight = Size,
        InputWidth = Size,
        CodeSize = Code,
        DecoderWidth = DecoderWidth,
        SqueezeChannels = SqueezeChannels,
        Prototypes = Prototypes,
        PrototypeStride = PrototypeStride > 0 ? PrototypeStride : null,
    };

    /// <summary>The trainer's settings, seeded with <paramref name="seed"/>.</summary>
    public IntegratedTraining ToTraining(int seed) => new(
        Epochs,
        SegmentationEpochs,
        RefitEpochs,
        Batch,
        LearningRate,
        SegmentationDecay,
        PseudoLabelPercentile,
        CopyPaste,
        Decoys,
        SolidDecoys,
        Seed: seed,
        FreezeTrunk: FreezeBackbone);

    /// <summary>How the segmentation head's output becomes normal objects.</summary>
    [JsonIgnore]
    public PostprocessOptions Detection => new() { ScoreThreshold = DetectionScore };

    /// <summary>The options that describe <paramref name="network"/> (training options at their defaults).</summary>
    public static IntegratedOptions Describing(IntegratedNetworkOptions network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.InputHeight != network.InputWidth)
        {
            throw new ArgumentException($"the integrated detector takes square inputs, not {network.InputWidth}x{network.InputHeight}", nameof(network));
        }

        return new IntegratedOptions
        {
            Size = network.InputWidth,
            Backbone = network.Depth == ResNet.ImageNet18 ? Backbone.Pretrained : Enum.Parse<Backbone>(network.Depth, ignoreCase: true),
            WidthDivisor = network.WidthDivisor,
            PyramidChannels = network.PyramidChannels,
            Code = network.CodeSize,
            DecoderWidth = network.DecoderWidth,
            SqueezeChannels = network.SqueezeChannels,
            Prototypes = network.Prototypes,
            PrototypeStride = network.ResolvedPrototypeStride,
        };
    }

    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Size % 32 != 0)
        {
            yield return Fail(nameof(Size), "must be a multiple of 32");
        }

        if (64 % WidthDivisor != 0)
        {
            yield return Fail(nameof(WidthDivisor), "must divide 64");
        }

        if (Backbone == Backbone.Pretrained && WidthDivisor != 1)
        {
            yield return Fail(nameof(WidthDivisor), "must be 1 with the pretrained backbone (its widths are fixed)");
        }

        if (FreezeBackbone && Backbone != Backbone.Pretrained)
        {
            yield return Fail(nameof(FreezeBackbone), "only the pretrained backbone can be frozen (a network trained from scratch needs its backbone trained)");
        }

        if (PrototypeStride is not (0 or 1 or 2 or 4 or 8))
        {
            yield return Fail(nameof(PrototypeStride), "must be 0, 1, 2, 4 or 8");
        }

        if (Peak > Size)
        {
            yield return Fail(nameof(Peak), $"window {Peak} must fit the input ({Size} px)");
        }

        // The reconstruction head's bottleneck: squeezed channels (or 4 x decoder width) on a (size / 32)^2 grid, to code floats.
        long cells = (Size / 32) * (Size / 32);
        if (LayerLimit(nameof(Code), "reconstruction bottleneck", Math.Max(SqueezeChannels, 4L * DecoderWidth) * cells * Code) is { } tooLarge)
        {
            yield return tooLarge;
        }
    }
}
