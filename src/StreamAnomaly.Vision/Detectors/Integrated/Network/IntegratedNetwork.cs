using StreamAnomaly.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>Shape of an <see cref="IntegratedNetwork"/>. Defaults: the paper's ResNet-50 with YOLACT's 256-channel pyramid.</summary>
public sealed record IntegratedNetworkOptions
{
    /// <summary>"resnet18", "resnet34", "resnet50" or <see cref="ResNet.ImageNet18"/> (the pretrained network's shape).</summary>
    public string Depth { get; init; } = "resnet50";

    /// <summary>Divides every backbone channel count (1 = published width; must divide 64).</summary>
    public int WidthDivisor { get; init; } = 1;

    /// <summary>Channels of every pyramid level (YOLACT: 256).</summary>
    public int PyramidChannels { get; init; } = 256;

    /// <summary>Input height in pixels, a multiple of 32.</summary>
    public int InputHeight { get; init; } = 256;

    /// <summary>Input width in pixels, a multiple of 32.</summary>
    public int InputWidth { get; init; } = 256;

    /// <summary>Floats in the reconstruction head's bottleneck (512 = 2 KB).</summary>
    public int CodeSize { get; init; } = 512;

    /// <summary>Base channel count w of the reconstruction decoder (stages 4w..w).</summary>
    public int DecoderWidth { get; init; } = 32;

    /// <summary>Channels after the reconstruction head's 1x1 squeeze, before the code.</summary>
    public int SqueezeChannels { get; init; } = 64;

    /// <summary>Prototype masks k (YOLACT: 32).</summary>
    public int Prototypes { get; init; } = 32;

    /// <summary>
    /// Input pixels per prototype pixel: 1, 2, 4 (YOLACT) or 8; null picks <see cref="ResolvedPrototypeStride"/>.
    /// Masks are assembled at this resolution, so it bounds their precision.
    /// </summary>
    public int? PrototypeStride { get; init; }

    /// <summary>
    /// The prototype stride in use: <see cref="PrototypeStride"/> if set, else 4 (YOLACT) for inputs
    /// whose shorter side is 256 px or more and 2 below. Why: the smallest anchors are 16 px (2 x the
    /// finest stride, see <see cref="AnchorOptions"/>) at any input size; at stride 4 such an object
    /// spans 4 prototype pixels and a 14 px one 3.5, too coarse for its mask edges (a head trained on
    /// exact 14 px squares at 64 px covered 56 % of a held-out square at stride 4, 98 % at stride 2).
    /// At small inputs the finer prototypes cost little (the last two prototype layers run on 4 x the
    /// pixels); at 256 px and more they would cost as much as a ResNet-50, and objects are larger.
    /// </summary>
    public int ResolvedPrototypeStride => PrototypeStride ?? (Math.Min(InputHeight, InputWidth) >= 256 ? 4 : 2);

    /// <summary>Classes including background (2: background, normal object).</summary>
    public int Classes { get; init; } = 2;

    public AnchorOptions Anchors { get; init; } = new();
}

/// <summary>
/// Everything <see cref="IntegratedNetwork.forward"/> computes for a batch [N, 3, H, W]:
/// <see cref="Reconstruction"/> [N, 3, H, W] in [0, 1], and the segmentation head's raw outputs
/// (see <see cref="SegmentationOutput"/>). Owns its tensors.
/// </summary>
public sealed record IntegratedOutput(Tensor Reconstruction, Tensor ClassLogits, Tensor BoxRegressions, Tensor MaskCoefficients, Tensor Prototypes) : IDisposable
{
    /// <summary>A view of the segmentation outputs sharing these tensors (do not dispose both).</summary>
    public SegmentationOutput Segmentation => new(ClassLogits, BoxRegressions, MaskCoefficients, Prototypes);

    public void Dispose()
    {
        Reconstruction.Dispose();
        ClassLogits.Dispose();
        BoxRegressions.Dispose();
        MaskCoefficients.Dispose();
        Prototypes.Dispose();
    }
}

/// <summary>Parts of the network that train or freeze together.</summary>
[Flags]
public enum NetworkParts
{
    None = 0,

    /// <summary>The ResNet.</summary>
    Trunk = 1,

    SegmentationHead = 2,

    /// <summary>The reconstruction (decoder) head, bottleneck included.</summary>
    ReconstructionHead = 4,

    /// <summary>The feature pyramid on the ResNet.</summary>
    Pyramid = 8,

    /// <summary>The part both heads share: ResNet and feature pyramid.</summary>
    Backbone = Trunk | Pyramid,

    All = Backbone | SegmentationHead | ReconstructionHead,
}

/// <summary>The paper's three training stages.</summary>
public enum TrainingStage
{
    /// <summary>Stage 1: backbone + decoder as an autoencoder on background-only frames.</summary>
    Autoencoder = 1,

    /// <summary>Stage 2: segmentation head on pseudo-labels (backbone too, unless frozen).</summary>
    Segmentation = 2,

    /// <summary>Stage 3: backbone and segmentation head frozen, decoder retrained.</summary>
    DecoderRefit = 3,
}

/// <summary>
/// Parameter counts behind the paper's comparison (two models of 60 M vs one shared of 36 M with
/// ResNet-50): an autoencoder (backbone + pyramid + reconstruction head) and a separate segmenter
/// (backbone + pyramid + segmentation head), against one backbone + pyramid shared by both heads.
/// </summary>
public sealed record ParameterComparison(long Backbone, long Pyramid, long ReconstructionHead, long SegmentationHead)
{
    public long TwoSeparateModels => (2 * (Backbone + Pyramid)) + ReconstructionHead + SegmentationHead;

    public long SharedBackbone => Backbone + Pyramid + ReconstructionHead + SegmentationHead;
}

/// <summary>
/// The integrated CNN: a ResNet backbone and a YOLACT feature pyramid shared by a
/// <see cref="Network.ReconstructionHead"/> (autoencoder with a 2 KB fully-connected bottleneck)
/// and a YOLACT-style <see cref="Network.SegmentationHead"/> for normal objects.
/// State-dict prefixes: <c>backbone.</c>, <c>fpn.</c>, <c>reconstruction_head.</c>, <c>segmentation_head.</c>;
/// the buffer <c>residual_scale</c> holds the normal residual level per pixel (see <see cref="ResidualScale"/>).
/// </summary>
public sealed class IntegratedNetwork : Module<Tensor, IntegratedOutput>
{
    private const string ResidualScaleBuffer = "residual_scale";

    private readonly ResNet backbone;
    private readonly FeaturePyramid fpn;
    private readonly ReconstructionHead reconstruction_head;
    private readonly SegmentationHead segmentation_head;

    public IntegratedNetwork(IntegratedNetworkOptions options) : base(nameof(IntegratedNetwork))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Anchors.Validate();
        Options = options;
        backbone = ResNet.Create(options.Depth, options.WidthDivisor);
        fpn = new FeaturePyramid(backbone.OutputChannels, options.PyramidChannels);
        reconstruction_head = new ReconstructionHead(options.PyramidChannels, options.InputHeight, options.InputWidth, options.CodeSize, options.DecoderWidth, options.SqueezeChannels);
        segmentation_head = new SegmentationHead(options.PyramidChannels, options.Prototypes, options.Classes, options.Anchors.AnchorsPerLocation, options.ResolvedPrototypeStride);
        RegisterComponents();
        register_buffer(ResidualScaleBuffer, ones(options.InputHeight, options.InputWidth));
    }

    public IntegratedNetworkOptions Options { get; }

    /// <summary>
    /// The reconstruction residual a normal frame shows at each pixel, [H, W] on the network's device
    /// (all ones until training fits it with <see cref="SetResidualScale"/>): pseudo-labels threshold
    /// the residual divided by it, so that parts that are never reconstructed well (a moving arm) do
    /// not drown the objects. Saved with the weights.
    /// </summary>
    public Tensor ResidualScale => named_buffers(recurse: false).Single(b => b.name == ResidualScaleBuffer).buffer;

    /// <summary>Replaces <see cref="ResidualScale"/> (positive values, row-major, <see cref="Options"/>' size).</summary>
    public void SetResidualScale(AnomalyMap scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        if (scale.Width != Options.InputWidth || scale.Height != Options.InputHeight)
        {
            throw new ArgumentException($"residual scale is {scale.Width}x{scale.Height}, the network takes {Options.InputWidth}x{Options.InputHeight}", nameof(scale));
        }

        if (scale.Values.Any(v => !(v > 0) || !float.IsFinite(v)))
        {
            throw new ArgumentException("residual scale values must be positive and finite", nameof(scale));
        }

        using var noGrad = no_grad();
        using var values = tensor(scale.Values, [Options.InputHeight, Options.InputWidth]);
        ResidualScale.copy_(values);
    }

    /// <summary>Both heads on a batch [N, 3, H, W] (H, W as in <see cref="Options"/>).</summary>
    public override IntegratedOutput forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var pyramid = Pyramid(input);
        var reconstruction = reconstruction_head.call((pyramid[0], pyramid[1], pyramid[2]));
        var segmentation = segmentation_head.call(pyramid);
        return new IntegratedOutput(
            reconstruction.MoveToOuterDisposeScope(),
            segmentation.ClassLogits.MoveToOuterDisposeScope(),
            segmentation.BoxRegressions.MoveToOuterDisposeScope(),
            segmentation.MaskCoefficients.MoveToOuterDisposeScope(),
            segmentation.Prototypes.MoveToOuterDisposeScope());
    }

    /// <summary>The reconstruction head alone (stages 1 and 3, anomaly scoring): [N, 3, H, W] in [0, 1].</summary>
    public Tensor Reconstruct(Tensor input)
    {
        using var scope = NewDisposeScope();
        var pyramid = Pyramid(input);
        return reconstruction_head.call((pyramid[0], pyramid[1], pyramid[2])).MoveToOuterDisposeScope();
    }

    /// <summary>The segmentation head alone (stage 2 training).</summary>
    public SegmentationOutput Segment(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = segmentation_head.call(Pyramid(input));
        return new SegmentationOutput(
            output.ClassLogits.MoveToOuterDisposeScope(),
            output.BoxRegressions.MoveToOuterDisposeScope(),
            output.MaskCoefficients.MoveToOuterDisposeScope(),
            output.Prototypes.MoveToOuterDisposeScope());
    }

    /// <summary>Starts the ResNet from the pretrained ImageNet weights (the network's depth must be <see cref="ResNet.ImageNet18"/>).</summary>
    public void InitialiseTrunk(Models.Pretrained.PretrainedResNet18 pretrained) => backbone.CopyFrom(pretrained);

    /// <summary>The priors [P, 4] ([cx, cy, w, h], relative) matching this network's outputs.</summary>
    public Tensor CreatePriors() => PriorBoxes.ForInput(Options.InputHeight, Options.InputWidth, Options.Anchors);

    /// <summary>
    /// Inference: normal-object instances per image of a batch [N, 3, H, W] (on the network's device), in evaluation mode and
    /// without gradients (each part's training mode, as set by <see cref="ConfigureForStage"/>, is restored afterwards). Leaves no tensor behind.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<SegmentationDetection>> Detect(Tensor input, PostprocessOptions? options = null)
    {
        var modes = Modules(NetworkParts.All).Select(m => (Module: m, m.training)).ToArray();
        var wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            using var output = Segment(input);
            using var priors = CreatePriors().to(output.ClassLogits.device);
            return SegmentationPostprocessor.Process(output, priors, Options.InputHeight, Options.InputWidth, options);
        }
        finally
        {
            if (wasTraining)
            {
                train();
            }

            foreach (var (module, wasModuleTraining) in modes)
            {
                module.train(wasModuleTraining);
            }
        }
    }

    /// <summary>Sets <c>requires_grad</c> of every parameter in <paramref name="parts"/>.</summary>
    public void SetTrainable(NetworkParts parts, bool trainable)
    {
        foreach (var module in Modules(parts))
        {
            foreach (var parameter in module.parameters())
            {
                parameter.requires_grad = trainable;
            }
        }
    }

    /// <summary>
    /// Freezes and unfreezes for a training stage and puts the frozen parts in evaluation mode (so
    /// their batch-norm statistics stay fixed) and the trained parts in training mode. Call it
    /// after <c>train()</c>, before building the optimiser over <see cref="TrainableParameters"/>.
    /// Stage 1: backbone + reconstruction head; stage 2: segmentation head (+ backbone unless
    /// <paramref name="freezeBackboneInSegmentationStage"/>); stage 3: reconstruction head only.
    /// <paramref name="freezeTrunk"/> keeps the ResNet out of every stage (a pretrained one used as
    /// a fixed feature extractor; the pyramid still trains with the head it serves).
    /// </summary>
    public NetworkParts ConfigureForStage(TrainingStage stage, bool freezeBackboneInSegmentationStage = false, bool freezeTrunk = false)
    {
        var trained = stage switch
        {
            TrainingStage.Autoencoder => NetworkParts.Backbone | NetworkParts.ReconstructionHead,
            TrainingStage.Segmentation => freezeBackboneInSegmentationStage
                ? NetworkParts.SegmentationHead
                : NetworkParts.Backbone | NetworkParts.SegmentationHead,
            TrainingStage.DecoderRefit => NetworkParts.ReconstructionHead,
            _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "unknown training stage"),
        };
        if (freezeTrunk)
        {
            trained &= ~NetworkParts.Trunk;
        }

        SetTrainable(NetworkParts.All & ~trained, false);
        SetTrainable(trained, true);
        foreach (var module in Modules(NetworkParts.All & ~trained))
        {
            module.eval();
        }

        foreach (var module in Modules(trained))
        {
            module.train();
        }

        return trained;
    }

    /// <summary>
    /// Re-initialises the segmentation head as a new network seeded with <paramref name="seed"/> would
    /// have it (same shapes, same device), leaving backbone, pyramid and reconstruction head as they are:
    /// the starting point for comparing segmentation heads trained on different labels.
    /// </summary>
    public void ResetSegmentationHead(long seed)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(seed);
        using var fresh = new SegmentationHead(Options.PyramidChannels, Options.Prototypes, Options.Classes, Options.Anchors.AnchorsPerLocation, Options.ResolvedPrototypeStride);
        using var noGrad = no_grad();
        var target = segmentation_head.state_dict();
        foreach (var (name, value) in fresh.state_dict())
        {
            target[name].copy_(value);
        }
    }

    /// <summary>Parameters that currently require gradients.</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);

    /// <summary>Parameters in <paramref name="parts"/>.</summary>
    public long CountParameters(NetworkParts parts) => Modules(parts).Sum(m => m.parameters().Sum(p => p.numel()));

    /// <summary>
    /// The paper's comparison for a configuration: builds the network once (on the CPU, so a
    /// full-width ResNet-50 takes a second or two) and counts each part.
    /// </summary>
    public static ParameterComparison CompareParameterCounts(IntegratedNetworkOptions options)
    {
        using var network = new IntegratedNetwork(options);
        return new ParameterComparison(
            network.backbone.parameters().Sum(p => p.numel()),
            network.fpn.parameters().Sum(p => p.numel()),
            network.CountParameters(NetworkParts.ReconstructionHead),
            network.CountParameters(NetworkParts.SegmentationHead));
    }

    private Tensor[] Pyramid(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != 3 || input.shape[2] != Options.InputHeight || input.shape[3] != Options.InputWidth)
        {
            throw new ArgumentException($"expected a batch [N, 3, {Options.InputHeight}, {Options.InputWidth}], got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        return fpn.call(backbone.call(input));
    }

    private IEnumerable<Module> Modules(NetworkParts parts)
    {
        if (parts.HasFlag(NetworkParts.Trunk))
        {
            yield return backbone;
        }

        if (parts.HasFlag(NetworkParts.Pyramid))
        {
            yield return fpn;
        }

        if (parts.HasFlag(NetworkParts.SegmentationHead))
        {
            yield return segmentation_head;
        }

        if (parts.HasFlag(NetworkParts.ReconstructionHead))
        {
            yield return reconstruction_head;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            fpn.Dispose();
            reconstruction_head.Dispose();
            segmentation_head.Dispose();
        }

        base.Dispose(disposing);
    }
}
