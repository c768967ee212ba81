using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// A convolutional LSTM cell (Shi et al. 2015, without the peephole terms): the four gates come from one
/// convolution over the channel concatenation of the input x_t [N, in, H, W] and the previous hidden state
/// h_(t-1) [N, hidden, H, W] ("same" padding, so the grid is kept):
/// <c>[i, f, o, g] = conv([x_t, h_(t-1)])</c>, <c>c_t = sigmoid(f) * c_(t-1) + sigmoid(i) * tanh(g)</c>,
/// <c>h_t = sigmoid(o) * tanh(c_t)</c>. The forget-gate bias starts at 1 (remember by default).
/// Peepholes (cell-to-gate Hadamard weights) are left out: they matter little in practice and tie the
/// cell to one grid size.
/// </summary>
public sealed class ConvLstmCell : Module<Tensor, Tensor, Tensor, (Tensor Hidden, Tensor Cell)>
{
    private readonly Conv2d gates;

    public ConvLstmCell(int inputChannels, int hiddenChannels, int kernelSize = 3) : base(nameof(ConvLstmCell))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenChannels);
        if (kernelSize < 1 || kernelSize % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "the kernel size must be odd and positive");
        }

        InputChannels = inputChannels;
        HiddenChannels = hiddenChannels;
        gates = Conv2d(inputChannels + hiddenChannels, 4 * hiddenChannels, kernel_size: kernelSize, padding: kernelSize / 2);
        using (no_grad())
        using (var forgetBias = gates.bias!.narrow(0, hiddenChannels, hiddenChannels))
        {
            forgetBias.fill_(1.0);
        }

        RegisterComponents();
    }

    /// <summary>Channels of the input x_t.</summary>
    public int InputChannels { get; }

    /// <summary>Channels of the hidden and cell states.</summary>
    public int HiddenChannels { get; }

    /// <summary>Zero hidden and cell states for an input like <paramref name="input"/> ([N, in, H, W]).</summary>
    public (Tensor Hidden, Tensor Cell) ZeroState(Tensor input)
    {
        long[] shape = [input.shape[0], HiddenChannels, input.shape[2], input.shape[3]];
        return (zeros(shape, input.dtype, input.device), zeros(shape, input.dtype, input.device));
    }

    /// <summary>One step: x_t [N, in, H, W], h_(t-1) and c_(t-1) [N, hidden, H, W] -> (h_t, c_t).</summary>
    public override (Tensor Hidden, Tensor Cell) forward(Tensor input, Tensor hidden, Tensor cell)
    {
        using var scope = NewDisposeScope();
        var parts = gates.call(cat([input, hidden], 1)).chunk(4, 1);
        var inputGate = parts[0].sigmoid();
        var forgetGate = parts[1].sigmoid();
        var outputGate = parts[2].sigmoid();
        var candidate = parts[3].tanh();
        var nextCell = (forgetGate * cell).Plus(inputGate * candidate);
        var nextHidden = outputGate * nextCell.tanh();
        return (nextHidden.MoveToOuterDisposeScope(), nextCell.MoveToOuterDisposeScope());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            gates.Dispose();
        }

        base.Dispose(disposing);
    }
}
