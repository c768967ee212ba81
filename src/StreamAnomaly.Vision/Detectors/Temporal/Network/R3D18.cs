using TorchSharp;
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

    private readonly Sequential stem;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Linear fc;

    /// <param name="classes">Number of partitions C (logits per frame).</param>
    /// <param name="widthDivisor">Divides the channel counts 64/128/256/512 (must divide 64): 1 is the full
    /// network (33.2 M parameters plus 513 per class), 8 or 16 are small CPU models.</param>
    public R3D18(int classes, int widthDivisor = 1) : base(nameof(R3D18))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (widthDivisor < 1 || 64 % widthDivisor != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(widthDivisor), widthDivisor, "the width divisor must divide 64");
        }

        Classes = classes;
        WidthDivisor = widthDivisor;
        int[] channels = [64 / widthDivisor, 128 / widthDivisor, 256 / widthDivisor, 512 / widthDivisor];
        stem = Sequential(
            ("0", Conv3d(3, channels[0], kernel_size: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3), bias: false)),
            ("1", BatchNorm3d(channels[0])),
            ("2", ReLU()));
        layer1 = Stage(channels[0], channels[0], 1);
        layer2 = Stage(channels[0], channels[1], 2);
        layer3 = Stage(channels[1], channels[2], 2);
        layer4 = Stage(channels[2], channels[3], 2);
        fc = Linear(channels[3], classes);
        RegisterComponents();
    }

    /// <summary>Number of partitions C.</summary>
    public int Classes { get; }

    /// <summary>Divisor of the channel counts (1 = full width).</summary>
    public int WidthDivisor { get; }

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

        return layer2.call(layer1.call(stem.call(input.permute(0, 2, 1, 3, 4))));
    }

    /// <summary>[N, C, T, h, w] -> spatial mean per time step -> [N, T, C] -> linear -> [N, T, classes].</summary>
    private Tensor Head(Tensor features) => fc.call(features.mean([3L, 4L]).transpose(1, 2));

    private static Sequential Stage(int inputChannels, int channels, int spatialStride) => Sequential(
        ("0", (Module<Tensor, Tensor>)new BasicBlock3d(inputChannels, channels, spatialStride)),
        ("1", new BasicBlock3d(channels, channels, 1)));

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
