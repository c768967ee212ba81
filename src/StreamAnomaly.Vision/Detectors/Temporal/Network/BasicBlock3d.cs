using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// The residual block of R3D-18: two 3x3x3 convolutions with batch norm,
/// <c>out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))</c>, where the shortcut is a 1x1x1
/// convolution with batch norm when the stride or the channel count changes, the identity otherwise.
/// Tensors are in Conv3d's layout [N, C, T, H, W].
/// </summary>
public sealed class BasicBlock3d : Module<Tensor, Tensor>
{
    private readonly Conv3d conv1;
    private readonly BatchNorm3d bn1;
    private readonly Conv3d conv2;
    private readonly BatchNorm3d bn2;
    private readonly Sequential? downsample;

    /// <param name="inputChannels">Channels in.</param>
    /// <param name="channels">Channels out.</param>
    /// <param name="spatialStride">Stride of the first convolution in H and W (the temporal stride is always 1).</param>
    public BasicBlock3d(int inputChannels, int channels, int spatialStride) : base(nameof(BasicBlock3d))
    {
        (long, long, long) stride = (1, spatialStride, spatialStride);
        conv1 = Conv3d(inputChannels, channels, kernel_size: (3, 3, 3), stride: stride, padding: (1, 1, 1), bias: false);
        bn1 = BatchNorm3d(channels);
        conv2 = Conv3d(channels, channels, kernel_size: (3, 3, 3), padding: (1, 1, 1), bias: false);
        bn2 = BatchNorm3d(channels);
        if (spatialStride != 1 || inputChannels != channels)
        {
            downsample = Sequential(
                ("0", Conv3d(inputChannels, channels, kernel_size: (1, 1, 1), stride: stride, bias: false)),
                ("1", BatchNorm3d(channels)));
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (_, output) = ForwardWithInner(input);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The block's output and its inner activation <c>relu(bn1(conv1(x)))</c>: the outputs of the block's two
    /// conv layers (each taken after its batch norm and ReLU, the second also after the residual sum).
    /// </summary>
    public (Tensor Inner, Tensor Output) ForwardWithInner(Tensor input)
    {
        using var scope = NewDisposeScope();
        var inner = functional.relu(bn1.call(conv1.call(input)));
        var shortcut = downsample is null ? input : downsample.call(input);
        var output = functional.relu(bn2.call(conv2.call(inner)).Plus(shortcut));
        return (inner.MoveToOuterDisposeScope(), output.MoveToOuterDisposeScope());
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
