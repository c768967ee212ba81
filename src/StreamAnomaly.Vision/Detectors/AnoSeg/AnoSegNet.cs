using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>
/// AnoSeg's segmentation network, a small U-Net trained from scratch: the frame [N, 3, S, S] in
/// [0, 1] gets two coordinate channels (x and y in [-1, 1], so position is learnable: a part that
/// is normal in one place can be anomalous in another), then four levels of two 3x3 convolutions
/// with batch norm and ReLU (w, 2w, 4w, 8w channels, 2x2 max pooling between), and a decoder of
/// 2x2 transposed convolutions whose outputs are concatenated with the encoder's at the same level.
/// A 1x1 convolution gives the anomaly logits [N, 1, S, S]. S must be a multiple of 8.
/// </summary>
public sealed class AnoSegNet : Module<Tensor, Tensor>
{
    private readonly Sequential enc0;
    private readonly Sequential enc1;
    private readonly Sequential enc2;
    private readonly Sequential bottom;
    private readonly ConvTranspose2d up2;
    private readonly Sequential dec2;
    private readonly ConvTranspose2d up1;
    private readonly Sequential dec1;
    private readonly ConvTranspose2d up0;
    private readonly Sequential dec0;
    private readonly Conv2d head;

    public AnoSegNet(int width) : base(nameof(AnoSegNet))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        Width = width;
        enc0 = Block(5, width);
        enc1 = Block(width, 2 * width);
        enc2 = Block(2 * width, 4 * width);
        bottom = Block(4 * width, 8 * width);
        up2 = ConvTranspose2d(8 * width, 4 * width, kernel_size: 2, stride: 2);
        dec2 = Block(8 * width, 4 * width);
        up1 = ConvTranspose2d(4 * width, 2 * width, kernel_size: 2, stride: 2);
        dec1 = Block(4 * width, 2 * width);
        up0 = ConvTranspose2d(2 * width, width, kernel_size: 2, stride: 2);
        dec0 = Block(2 * width, width);
        head = Conv2d(width, 1, kernel_size: 1);
        RegisterComponents();
    }

    /// <summary>Channels of the first level.</summary>
    public int Width { get; }

    /// <summary>The two coordinate channels for <paramref name="count"/> frames of <paramref name="height"/> x <paramref name="width"/>: [count, 2, H, W], channel 0 = x (left -1, right 1), channel 1 = y (top -1, bottom 1).</summary>
    public static Tensor Coordinates(long count, long height, long width, Device device)
    {
        using var scope = NewDisposeScope();
        var x = linspace(-1, 1, width, device: device).view(1, 1, 1, width).expand(count, 1, height, width);
        var y = linspace(-1, 1, height, device: device).view(1, 1, height, 1).expand(count, 1, height, width);
        return cat([x, y], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Anomaly logits [N, 1, S, S] of frames <paramref name="input"/> [N, 3, S, S] in [0, 1].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = cat([input, Coordinates(input.shape[0], input.shape[2], input.shape[3], input.device)], 1);
        var e0 = enc0.call(x);
        var e1 = enc1.call(functional.max_pool2d(e0, 2));
        var e2 = enc2.call(functional.max_pool2d(e1, 2));
        var b = bottom.call(functional.max_pool2d(e2, 2));
        var d2 = dec2.call(cat([up2.call(b), e2], 1));
        var d1 = dec1.call(cat([up1.call(d2), e1], 1));
        var d0 = dec0.call(cat([up0.call(d1), e0], 1));
        return head.call(d0).MoveToOuterDisposeScope();
    }

    private static Sequential Block(int input, int output) =>
        Sequential(
            Conv2d(input, output, kernel_size: 3, padding: 1, bias: false),
            BatchNorm2d(output),
            ReLU(),
            Conv2d(output, output, kernel_size: 3, padding: 1, bias: false),
            BatchNorm2d(output),
            ReLU());

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            enc0.Dispose();
            enc1.Dispose();
            enc2.Dispose();
            bottom.Dispose();
            up2.Dispose();
            dec2.Dispose();
            up1.Dispose();
            dec1.Dispose();
            up0.Dispose();
            dec0.Dispose();
            head.Dispose();
        }

        base.Dispose(disposing);
    }
}
