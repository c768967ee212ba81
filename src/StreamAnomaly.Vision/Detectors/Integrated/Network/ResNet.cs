using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>
/// The two-convolution residual block of ResNet-18/34 (torchvision's <c>BasicBlock</c>, expansion 1):
/// 3x3 conv (stride s) - BN - ReLU - 3x3 conv - BN, plus the identity or a 1x1-conv/BN
/// <c>downsample</c> shortcut, then ReLU.
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    /// <summary>Output channels = <c>planes * Expansion</c>.</summary>
    public const int Expansion = 1;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inPlanes, long planes, long stride = 1) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        downsample = ResNet.Shortcut(inPlanes, planes * Expansion, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(bn1.call(conv1.call(input)));
        x = bn2.call(conv2.call(x));
        var identity = downsample is null ? input : downsample.call(input);
        return functional.relu(x.Plus(identity)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            downsample?.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// The three-convolution residual block of ResNet-50 (torchvision's <c>Bottleneck</c>, v1.5: the
/// stride sits on the 3x3 conv): 1x1 - 3x3 (stride s) - 1x1 (x4 channels), BN after each, plus the
/// identity or a 1x1-conv/BN <c>downsample</c> shortcut, then ReLU.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    /// <summary>Output channels = <c>planes * Expansion</c>.</summary>
    public const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    public Bottleneck(long inPlanes, long planes, long stride = 1) : base(nameof(Bottleneck))
    {
        conv1 = Conv2d(inPlanes, planes, kernel_size: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = Conv2d(planes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        conv3 = Conv2d(planes, planes * Expansion, kernel_size: 1, bias: false);
        bn3 = BatchNorm2d(planes * Expansion);
        downsample = ResNet.Shortcut(inPlanes, planes * Expansion, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(bn1.call(conv1.call(input)));
        x = functional.relu(bn2.call(conv2.call(x)));
        x = bn3.call(conv3.call(x));
        var identity = downsample is null ? input : downsample.call(input);
        return functional.relu(x.Plus(identity)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            conv3.Dispose();
            bn3.Dispose();
            downsample?.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// ResNet backbone without the classifier, with torchvision's state-dict names (<c>conv1</c>,
/// <c>bn1</c>, <c>layer1</c>..<c>layer4</c> holding blocks <c>{i}.conv1</c>, <c>{i}.downsample.0/1</c>, ...).
/// Input [N, 3, H, W] (BGR in [0, 1]); <see cref="forward"/> returns the feature maps C3, C4, C5 of
/// <c>layer2..layer4</c> at strides 8, 16, 32 (each spatial side is ceil(side / stride)).
/// </summary>
/// <remarks>
/// <see cref="ImageNet18"/> is the shape of the pretrained ImageNet ResNet-18
/// (<see cref="Models.Pretrained.PretrainedResNet18"/>: 2, 2, 2, 3 blocks), whose weights
/// <see cref="CopyFrom"/> takes. It scales its input to the 0-255 pixel values that network saw and
/// subtracts the channel means of its preprocessing (the buffer <c>input_mean</c>, saved with the weights).
/// </remarks>
public sealed class ResNet : Module<Tensor, (Tensor C3, Tensor C4, Tensor C5)>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly bool imagenetInput;

    private ResNet(string depth, bool bottleneck, int[] blocks, int widthDivisor, bool imagenetInput = false) : base(depth)
    {
        Depth = depth;
        var stem = 64 / widthDivisor;
        conv1 = Conv2d(3, stem, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(stem);
        long inPlanes = stem;
        var expansion = bottleneck ? Bottleneck.Expansion : BasicBlock.Expansion;
        var layers = new Sequential[4];
        var channels = new long[4];
        for (var l = 0; l < 4; l++)
        {
            long planes = (64 << l) / widthDivisor;
            var stride = l == 0 ? 1 : 2;
            var modules = new List<(string, Module<Tensor, Tensor>)>();
            for (var b = 0; b < blocks[l]; b++)
            {
                Module<Tensor, Tensor> block = bottleneck
                    ? new Bottleneck(inPlanes, planes, b == 0 ? stride : 1)
                    : new BasicBlock(inPlanes, planes, b == 0 ? stride : 1);
                modules.Add(($"{b}", block));
                inPlanes = planes * expansion;
            }

            layers[l] = Sequential(modules);
            channels[l] = inPlanes;
        }

        (layer1, layer2, layer3, layer4) = (layers[0], layers[1], layers[2], layers[3]);
        OutputChannels = (channels[1], channels[2], channels[3]);
        this.imagenetInput = imagenetInput;
        RegisterComponents();
        if (imagenetInput)
        {
            register_buffer(InputMeanBuffer, zeros(1, 3, 1, 1));
        }
    }

    /// <summary>The depth of the pretrained ImageNet ResNet-18's shape (layer4 has 3 blocks; full width only).</summary>
    public const string ImageNet18 = "resnet18-imagenet";

    private const string InputMeanBuffer = "input_mean";

    /// <summary>The depths <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Depths { get; } = ["resnet18", "resnet34", "resnet50", ImageNet18];

    /// <summary>"resnet18", "resnet34", "resnet50" or <see cref="ImageNet18"/>.</summary>
    public string Depth { get; }

    /// <summary>Channels of C3, C4, C5 (full width: 128/256/512 for 18/34, 512/1024/2048 for 50).</summary>
    public (long C3, long C4, long C5) OutputChannels { get; }

    /// <summary>
    /// Builds a backbone. <paramref name="widthDivisor"/> divides every channel count (1 = the
    /// published network; 4 = a quarter-width net for CPU tests); it must divide 64.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown <paramref name="depth"/>.</exception>
    public static ResNet Create(string depth, int widthDivisor = 1)
    {
        ArgumentNullException.ThrowIfNull(depth);
        if (widthDivisor <= 0 || 64 % widthDivisor != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(widthDivisor), widthDivisor, "width divisor must be a positive divisor of 64 (1, 2, 4, 8, ...)");
        }

        return depth switch
        {
            "resnet18" => new ResNet(depth, bottleneck: false, [2, 2, 2, 2], widthDivisor),
            "resnet34" => new ResNet(depth, bottleneck: false, [3, 4, 6, 3], widthDivisor),
            "resnet50" => new ResNet(depth, bottleneck: true, [3, 4, 6, 3], widthDivisor),
            ImageNet18 when widthDivisor != 1 => throw new ArgumentOutOfRangeException(nameof(widthDivisor), widthDivisor, $"{ImageNet18} has the pretrained network's widths: the width divisor must be 1"),
            ImageNet18 => new ResNet(depth, bottleneck: false, [2, 2, 2, 3], widthDivisor, imagenetInput: true),
            _ => throw new ArgumentException($"unknown ResNet depth '{depth}'; expected one of {string.Join(", ", Depths)}", nameof(depth)),
        };
    }

    /// <summary>
    /// Copies every weight, batch-norm statistic and the input normalisation of <paramref name="pretrained"/>
    /// into this <see cref="ImageNet18"/> backbone (same state-dict keys; the shipped file's channel order is BGR, as here).
    /// </summary>
    /// <exception cref="InvalidOperationException">This backbone is not <see cref="ImageNet18"/>, or the shapes differ.</exception>
    public void CopyFrom(Models.Pretrained.PretrainedResNet18 pretrained)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        if (!imagenetInput || pretrained.Preprocessing.NetworkOrder != "BGR")
        {
            throw new InvalidOperationException($"only a {ImageNet18} backbone takes the pretrained weights (this one: {Depth}; their channel order: {pretrained.Preprocessing.NetworkOrder})");
        }

        using var noGrad = no_grad();
        var target = state_dict();
        var source = pretrained.state_dict();
        var weights = target.Keys.Where(k => k != InputMeanBuffer).ToList();
        if (weights.Count != source.Count || weights.Any(k => !source.TryGetValue(k, out var value) || !value.shape.SequenceEqual(target[k].shape)))
        {
            throw new InvalidOperationException($"the pretrained network's {source.Count} tensors do not match this backbone's {weights.Count}");
        }

        foreach (var key in weights)
        {
            target[key].copy_(source[key]);
        }

        var norms = pretrained.named_modules().Where(static m => m.module is BatchNorm2d).ToDictionary(static m => m.name, static m => ((BatchNorm2d)m.module).eps);
        foreach (var (name, module) in named_modules())
        {
            if (module is BatchNorm2d norm)
            {
                norm.eps = norms[name];
            }
        }

        using var mean = tensor(pretrained.Preprocessing.ChannelMeans.ToArray(), [1, 3, 1, 1]);
        target[InputMeanBuffer].copy_(mean);
    }

    public override (Tensor C3, Tensor C4, Tensor C5) forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = imagenetInput ? input.mul(PixelScale).sub(InputMean) : input;
        x = functional.relu(bn1.call(conv1.call(x)));
        x = functional.max_pool2d(x, kernel_size: 3, stride: 2, padding: 1);
        x = layer1.call(x);
        var c3 = layer2.call(x);
        var c4 = layer3.call(c3);
        var c5 = layer4.call(c4);
        return (c3.MoveToOuterDisposeScope(), c4.MoveToOuterDisposeScope(), c5.MoveToOuterDisposeScope());
    }

    private Tensor InputMean => named_buffers(recurse: false).Single(b => b.name == InputMeanBuffer).buffer;

    private static readonly Scalar PixelScale = 255.0.ToScalar();

    /// <summary>torchvision's projection shortcut, or null when the identity fits.</summary>
    internal static Sequential? Shortcut(long inPlanes, long outPlanes, long stride) =>
        stride == 1 && inPlanes == outPlanes
            ? null
            : Sequential(Conv2d(inPlanes, outPlanes, kernel_size: 1, stride: stride, bias: false), BatchNorm2d(outPlanes));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            layer4.Dispose();
        }

        base.Dispose(disposing);
    }
}
