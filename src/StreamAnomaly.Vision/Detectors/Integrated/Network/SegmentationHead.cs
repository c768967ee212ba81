using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>
/// Raw outputs of the <see cref="SegmentationHead"/> for a batch of N images and P priors:
/// <see cref="ClassLogits"/> [N, P, C] (class 0 = background), <see cref="BoxRegressions"/>
/// [N, P, 4] (SSD encoding against the priors), <see cref="MaskCoefficients"/> [N, P, k] in [-1, 1]
/// (tanh), <see cref="Prototypes"/> [N, k, H/s, W/s] (ReLU; s the prototype stride, YOLACT: 4). Owns its tensors.
/// </summary>
public sealed record SegmentationOutput(Tensor ClassLogits, Tensor BoxRegressions, Tensor MaskCoefficients, Tensor Prototypes) : IDisposable
{
    public void Dispose()
    {
        ClassLogits.Dispose();
        BoxRegressions.Dispose();
        MaskCoefficients.Dispose();
        Prototypes.Dispose();
    }
}

/// <summary>
/// YOLACT(-Edge) instance segmentation head on the pyramid P3..P7 (all with the same channels F).
/// <para><c>proto_net</c> on P3: three 3x3 convs (F) + ReLU, bilinear upsampling + ReLU (x2 in YOLACT,
/// for prototypes at stride 4; x4 for stride 2), a 3x3 conv (F) + ReLU, a 1x1 conv to k prototypes
/// + ReLU -> [N, k, H/s, W/s]. The upsampling has no weights, so the stride does not change the state dict.</para>
/// <para>Prediction head shared by all levels: <c>upfeature</c> (3x3 conv + ReLU), then three 3x3
/// convs: <c>conf_layer</c> (A x C class logits), <c>bbox_layer</c> (A x 4 box regressions),
/// <c>mask_layer</c> (A x k coefficients, tanh). Outputs are concatenated over levels in
/// <see cref="PriorBoxes.Generate"/>'s order.</para>
/// </summary>
public sealed class SegmentationHead : Module<Tensor[], SegmentationOutput>
{
    private readonly Sequential proto_net;
    private readonly Sequential upfeature;
    private readonly Conv2d bbox_layer;
    private readonly Conv2d conf_layer;
    private readonly Conv2d mask_layer;

    public SegmentationHead(int pyramidChannels, int prototypes = 32, int classes = 2, int anchorsPerLocation = 3, int prototypeStride = 4)
        : base(nameof(SegmentationHead))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pyramidChannels);
        if (prototypeStride is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(prototypeStride), prototypeStride, "the prototype stride must be 1, 2, 4 or 8 input pixels");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prototypes);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(anchorsPerLocation);
        Prototypes = prototypes;
        PrototypeStride = prototypeStride;
        Classes = classes;
        AnchorsPerLocation = anchorsPerLocation;
        long f = pyramidChannels;

        proto_net = Sequential(
            Conv2d(f, f, kernel_size: 3, padding: 1), ReLU(),
            Conv2d(f, f, kernel_size: 3, padding: 1), ReLU(),
            Conv2d(f, f, kernel_size: 3, padding: 1), ReLU(),
            Upsample(scale_factor: [8.0 / prototypeStride, 8.0 / prototypeStride], mode: UpsampleMode.Bilinear, align_corners: false), ReLU(),
            Conv2d(f, f, kernel_size: 3, padding: 1), ReLU(),
            Conv2d(f, prototypes, kernel_size: 1), ReLU());
        upfeature = Sequential(Conv2d(f, f, kernel_size: 3, padding: 1), ReLU());
        bbox_layer = Conv2d(f, anchorsPerLocation * 4L, kernel_size: 3, padding: 1);
        conf_layer = Conv2d(f, anchorsPerLocation * (long)classes, kernel_size: 3, padding: 1);
        mask_layer = Conv2d(f, anchorsPerLocation * (long)prototypes, kernel_size: 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Number of prototype masks (k).</summary>
    public int Prototypes { get; }

    /// <summary>Input pixels per prototype pixel: P3 (stride 8) is upsampled by 8 / this (YOLACT: 4).</summary>
    public int PrototypeStride { get; }

    /// <summary>Classes including background (C).</summary>
    public int Classes { get; }

    /// <summary>Anchors per location (A).</summary>
    public int AnchorsPerLocation { get; }

    /// <param name="pyramid">[P3, P4, P5, P6, P7] (any number of levels; prototypes come from the first).</param>
    public override SegmentationOutput forward(Tensor[] pyramid)
    {
        ArgumentNullException.ThrowIfNull(pyramid);
        ArgumentOutOfRangeException.ThrowIfZero(pyramid.Length);
        using var scope = NewDisposeScope();
        var prototypes = proto_net.call(pyramid[0]);
        var n = pyramid[0].shape[0];
        var conf = new List<Tensor>();
        var boxes = new List<Tensor>();
        var coefficients = new List<Tensor>();
        foreach (var level in pyramid)
        {
            var x = upfeature.call(level);
            conf.Add(conf_layer.call(x).permute(0, 2, 3, 1).reshape(n, -1, Classes));
            boxes.Add(bbox_layer.call(x).permute(0, 2, 3, 1).reshape(n, -1, 4));
            coefficients.Add(mask_layer.call(x).permute(0, 2, 3, 1).reshape(n, -1, Prototypes).tanh());
        }

        return new SegmentationOutput(
            cat(conf, 1).MoveToOuterDisposeScope(),
            cat(boxes, 1).MoveToOuterDisposeScope(),
            cat(coefficients, 1).MoveToOuterDisposeScope(),
            prototypes.MoveToOuterDisposeScope());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            proto_net.Dispose();
            upfeature.Dispose();
            bbox_layer.Dispose();
            conf_layer.Dispose();
            mask_layer.Dispose();
        }

        base.Dispose(disposing);
    }
}
