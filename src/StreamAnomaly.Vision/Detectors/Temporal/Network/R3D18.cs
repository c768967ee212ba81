using TorchSharp;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// The masking model of the background-masking paper: a 3-D ResNet-18 (Tran et al. 2018, torchvision's
/// <c>r3d_18</c> layout and state-dict names) classifying every frame of a clip into one of C partitions
/// of the machine cycle ("partition order prediction").
/// </summary>
/// <remarks>
/// <para>Stem: conv 3x7x7, stride (1, 2, 2), padding (1, 3, 3), batch norm, ReLU (no max pool, like r3d_18).
/// Then four stages of two <see cref="BasicBlock3d"/>s with 64, 128, 256, 512 channels (each divided by
/// <see cref="WidthDivisor"/> for small CPU models); stages 2 to 4 halve H and W. Unlike r3d_18 the
/// temporal stride is 1 everywhere, so every frame keeps its own features down to the last layer.</para>
/// <para>Head, per frame: the features [N, C, T, h, w] are averaged over h and w at each time step and a
/// linear layer maps each frame's C features to the class logits: output [N, T, classes].</para>
/// <para>Clips come in the layout of the temporal models, [N, T, 3, H, W] in [0, 1]; they are permuted to
/// Conv3d's [N, 3, T, H, W] inside. H and W must be multiples of 16 (the stem and stages 2 to 4 halve them).</para>
/// <para>Eigen-CAM: <see cref="ForwardWithActivations"/> also returns the outputs of the last k conv layers
/// (1 &lt;= k &lt;= 8) on the main path, counted back from the end: the last block's second conv (the network's
/// final features), its first conv, then the previous block's second and first, and so on through stages 4
/// and 3. Each is taken after its batch norm and ReLU (a block's second conv also after the residual sum,
/// i.e. the block's output), permuted to [N, T, C, h, w]. k = 1, 2, 4 are the paper's ablation choices (all
/// in stage 4, at H/16 x W/16); k = 8 adds stage 3 at H/8 x W/8. The 1x1x1 shortcut convs are not counted.</para>
/// </remarks>
public sealed class R3D18 : Module<Tensor, Tensor>
{
    /// <summary>The most conv layers <see cref="ForwardWithActivations"/> can return.</summary>
    public const int MaxActivationLayers = 8;

    /// <summary>Blocks in stage 4 of the pretrained ImageNet ResNet-18 (of the NuGet package; torchvision's has 2).</summary>
    public const int ImageNetLayer4Blocks = 3;

    private const string InputMeanBuffer = "input_mean";

    private static readonly Scalar PixelScale = 255.0.ToScalar();

    private readonly Sequential stem;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Linear fc;

    /// <param name="classes">Number of partitions C (logits per frame).</param>
    /// <param name="widthDivisor">Divides the channel counts 64/128/256/512 (must divide 64): 1 is the full
    /// network (33.2 M parameters plus 513 per class), 8 or 16 are small CPU models.</param>
    /// <param name="imagenet">The shape of the pretrained ImageNet ResNet-18 that <see cref="InflateFrom"/>
    /// copies (full width only; stage 4 has that network's 3 blocks), and its input: frames in [0, 1]
    /// are scaled to 0-255 and the pretrained preprocessing's channel means (buffer <c>input_mean</c>,
    /// saved with the weights) subtracted.</param>
    public R3D18(int classes, int widthDivisor = 1, bool imagenet = false) : base(nameof(R3D18))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (widthDivisor < 1 || 64 % widthDivisor != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(widthDivisor), widthDivisor, "the width divisor must divide 64");
        }

        if (imagenet && widthDivisor != 1)
        {
            throw new ArgumentOutOfRangeException(nameof(widthDivisor), widthDivisor, "the pretrained shape is full width (divisor 1)");
        }

        Classes = classes;
        WidthDivisor = widthDivisor;
        ImageNet = imagenet;
        int[] channels = [64 / widthDivisor, 128 / widthDivisor, 256 / widthDivisor, 512 / widthDivisor];
        stem = Sequential(
            ("0", Conv3d(3, channels[0], kernel_size: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3), bias: false)),
            ("1", BatchNorm3d(channels[0])),
            ("2", ReLU()));
        layer1 = Stage(channels[0], channels[0], 1, 2);
        layer2 = Stage(channels[0], channels[1], 2, 2);
        layer3 = Stage(channels[1], channels[2], 2, 2);
        layer4 = Stage(channels[2], channels[3], 2, imagenet ? ImageNetLayer4Blocks : 2);
        fc = Linear(channels[3], classes);
        RegisterComponents();
        if (imagenet)
        {
            register_buffer(InputMeanBuffer, zeros([1, 3, 1, 1, 1]));
        }
    }

    /// <summary>Number of partitions C.</summary>
    public int Classes { get; }

    /// <summary>Divisor of the channel counts (1 = full width).</summary>
    public int WidthDivisor { get; }

    /// <summary>Whether it has the pretrained ImageNet ResNet-18's shape and input (see the constructor).</summary>
    public bool ImageNet { get; }

    /// <summary>
    /// Initialises the network by inflating the pretrained 2-D ResNet-18 (Carreira and Zisserman's I3D
    /// inflation): each k x k kernel is repeated along time over the 3-D kernel's depth d and divided
    /// by d, so a clip of identical frames gives every frame the 2-D network's activations (up to its
    /// max pool after the stem, which R3D-18 does not have); batch norm weights, statistics and epsilons
    /// are copied, the input means set. The classifier keeps its random initialisation.
    /// </summary>
    public void InflateFrom(PretrainedResNet18 pretrained)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        if (!ImageNet || pretrained.Preprocessing.NetworkOrder != "BGR")
        {
            throw new InvalidOperationException($"only an R3D-18 of the pretrained shape inflates the pretrained weights (this one: imagenet {ImageNet}; their channel order: {pretrained.Preprocessing.NetworkOrder})");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var target = state_dict();
        var source = pretrained.state_dict();
        var copied = 0;
        foreach (var (key, value) in source)
        {
            var name = key.StartsWith("conv1.", StringComparison.Ordinal) ? "stem.0." + key["conv1.".Length..]
                : key.StartsWith("bn1.", StringComparison.Ordinal) ? "stem.1." + key["bn1.".Length..]
                : key;
            if (!target.TryGetValue(name, out var into))
            {
                throw new InvalidOperationException($"the pretrained network's {key} has no place in R3D-18");
            }

            var inflated = value.dim() == 4 && into.dim() == 5
                ? value.unsqueeze(2).expand(-1, -1, into.shape[2], -1, -1).div(into.shape[2])
                : value;
            if (!inflated.shape.SequenceEqual(into.shape))
            {
                throw new InvalidOperationException($"the pretrained network's {key} [{string.Join(", ", value.shape)}] does not fit R3D-18's {name} [{string.Join(", ", into.shape)}]");
            }

            into.copy_(inflated);
            copied++;
        }

        if (copied != target.Keys.Count(static k => !k.StartsWith("fc.", StringComparison.Ordinal) && k != InputMeanBuffer))
        {
            throw new InvalidOperationException($"the pretrained network's {copied} tensors leave part of R3D-18's trunk uninitialised");
        }

        var norms = pretrained.named_modules().Where(static m => m.module is BatchNorm2d).ToDictionary(static m => m.name == "bn1" ? "stem.1" : m.name, static m => ((BatchNorm2d)m.module).eps);
        foreach (var (name, module) in named_modules())
        {
            if (module is BatchNorm3d norm)
            {
                norm.eps = norms[name];
            }
        }

        target[InputMeanBuffer].copy_(tensor(pretrained.Preprocessing.ChannelMeans.ToArray(), [1, 3, 1, 1, 1]));
    }

    /// <summary>Per-frame logits [N, T, classes] of a clip [N, T, 3, H, W].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = layer4.call(layer3.call(Trunk(input)));
        return Head(features).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-frame logits [N, T, classes] and the activations of the last <paramref name="layers"/> conv layers
    /// (see the remarks), each [N, T, C, h, w], in forward order (the last conv layer's output last).
    /// </summary>
    public (Tensor Logits, Tensor[] Activations) ForwardWithActivations(Tensor input, int layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layers, MaxActivationLayers);
        using var scope = NewDisposeScope();
        var taps = new List<Tensor>(MaxActivationLayers);
        var x = Trunk(input);
        foreach (var stage in new[] { layer3, layer4 })
        {
            foreach (var (_, block) in stage.named_children())
            {
                var (inner, output) = ((BasicBlock3d)block).ForwardWithInner(x);
                taps.Add(inner);
                taps.Add(output);
                x = output;
            }
        }

        var logits = Head(x).MoveToOuterDisposeScope();
        var activations = taps.Skip(taps.Count - layers)
            .Select(a => a.permute(0, 2, 1, 3, 4).MoveToOuterDisposeScope())
            .ToArray();
        return (logits, activations);
    }

    /// <summary>Checks the clip layout and runs the stem and stages 1 and 2 (output [N, C, T, H/4, W/4]).</summary>
    private Tensor Trunk(Tensor input)
    {
        if (input.dim() != 5 || input.shape[2] != 3 || input.shape[3] % 16 != 0 || input.shape[4] % 16 != 0)
        {
            throw new ArgumentException($"expected a clip [N, T, 3, H, W] with H and W multiples of 16, got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        var x = input.permute(0, 2, 1, 3, 4);
        if (ImageNet)
        {
            x = x.mul(PixelScale).sub(named_buffers(recurse: false).Single(static b => b.name == InputMeanBuffer).buffer);
        }

        return layer2.call(layer1.call(stem.call(x)));
    }

    /// <summary>[N, C, T, h, w] -> spatial mean per time step -> [N, T, C] -> linear -> [N, T, classes].</summary>
    private Tensor Head(Tensor features) => fc.call(features.mean([3L, 4L]).transpose(1, 2));

    private static Sequential Stage(int inputChannels, int channels, int spatialStride, int blocks) => Sequential(
        Enumerable.Range(0, blocks).Select(b => ($"{b}", (Module<Tensor, Tensor>)(b == 0 ? new BasicBlock3d(inputChannels, channels, spatialStride) : new BasicBlock3d(channels, channels, 1)))));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stem.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            layer4.Dispose();
            fc.Dispose();
        }

        base.Dispose(disposing);
    }
}
