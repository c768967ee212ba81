using StreamAnomaly.Vision.Models;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// The anomaly detector of the background-masking paper, a convolutional LSTM autoencoder after Luo et
/// al. 2017 ("Remembering history with convolutional LSTM for anomaly detection"), made to PREDICT: every
/// frame of a sequence goes through the same spatial encoder (four stride-2 convolutions with batch norm,
/// [3, S, S] -> [2w, S/16, S/16]); a <see cref="ConvLstmCell"/> runs over the encoded frames in order
/// (zero initial state); after step t its hidden state is squeezed through a small fully-connected
/// bottleneck (<c>code</c> floats) and decoded (four stride-2 transposed convolutions, sigmoid) into
/// the network's guess of frame t + 1. Input [N, T, 3, S, S] in [0, 1]; output [N, T, 3, S, S] in
/// (0, 1), where output step t predicts input frame t + 1; S must be a multiple of 16.
/// </summary>
/// <remarks>
/// Two choices make the residual of an anomaly stand out (docs/temporal-masking.md has the figures):
/// without a bottleneck (the ConvLSTM state decoded directly) the network learns to copy whatever it
/// sees, foreign objects included; the bottleneck, as in the integrated CNN's autoencoder, keeps only what
/// normal footage needs. Predicting the next frame instead of reconstructing the current one adds what a
/// single frame cannot show: a stalled arm or a cycle at the wrong speed moves unlike its history says.
/// Batch norm in the encoder and decoder (statistics over all frames of all windows) is what lets this
/// deeper network train at all on a few hundred windows.
/// </remarks>
public sealed class ConvLstmAutoencoder : Module<Tensor, Tensor>
{
    private readonly Sequential encoder;
    private readonly ConvLstmCell lstm;
    private readonly Linear to_code;
    private readonly Linear from_code;
    private readonly Sequential decoder;
    private readonly long[] gridShape;

    /// <param name="inputSize">Side of the square input, a positive multiple of 16.</param>
    /// <param name="width">Channels of the first encoder convolution (then 2w, 4w, 2w).</param>
    /// <param name="hidden">Channels of the ConvLSTM state.</param>
    /// <param name="code">Floats in the fully-connected bottleneck.</param>
    /// <param name="kernelSize">Odd kernel of the ConvLSTM gate convolution.</param>
    public ConvLstmAutoencoder(int inputSize, int width = 32, int hidden = 64, int code = 512, int kernelSize = 3) : base(nameof(ConvLstmAutoencoder))
    {
        if (inputSize < 16 || inputSize % 16 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "input size must be a positive multiple of 16");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(code);
        InputSize = inputSize;
        Width = width;
        Hidden = hidden;
        Code = code;

        var channels = ConvStack.Channels(width);
        var grid = inputSize / 16;
        gridShape = [channels[4], grid, grid];
        encoder = ConvStack.Down(channels);
        lstm = new ConvLstmCell(channels[4], hidden, kernelSize);
        to_code = Linear(hidden * grid * grid, code);
        from_code = Linear(code, channels[4] * grid * grid);
        decoder = ConvStack.Up(channels);
        RegisterComponents();
    }

    /// <summary>Side of the square input in pixels.</summary>
    public int InputSize { get; }

    /// <summary>Channels of the first encoder convolution.</summary>
    public int Width { get; }

    /// <summary>Channels of the ConvLSTM state.</summary>
    public int Hidden { get; }

    /// <summary>Floats in the fully-connected bottleneck.</summary>
    public int Code { get; }

    /// <summary>Next-frame predictions of a sequence [N, T, 3, S, S] in [0, 1]: step t guesses frame t + 1 from frames 0 .. t.</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 5 || input.shape[2] != 3 || input.shape[3] != InputSize || input.shape[4] != InputSize)
        {
            throw new ArgumentException($"expected [N, T, 3, {InputSize}, {InputSize}], got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        using var scope = NewDisposeScope();
        long n = input.shape[0], steps = input.shape[1];
        var encoded = encoder.call(input.reshape(n * steps, 3, InputSize, InputSize));
        encoded = encoded.reshape(n, steps, encoded.shape[1], encoded.shape[2], encoded.shape[3]);

        var (h, c) = lstm.ZeroState(encoded.select(1, 0));
        var states = new Tensor[steps];
        for (var t = 0; t < steps; t++)
        {
            (h, c) = lstm.call(encoded.select(1, t), h, c);
            states[t] = h;
        }

        var codes = to_code.call(stack(states, 1).reshape(n * steps, -1));
        var grid = from_code.call(codes).relu().view([n * steps, .. gridShape]);
        return decoder.call(grid).reshape(n, steps, 3, InputSize, InputSize).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encoder.Dispose();
            lstm.Dispose();
            to_code.Dispose();
            from_code.Dispose();
            decoder.Dispose();
        }

        base.Dispose(disposing);
    }
}
