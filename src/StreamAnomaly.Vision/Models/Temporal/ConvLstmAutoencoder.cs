using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Models.Temporal;

/// <summary>
/// The anomaly detector of the background-masking paper, after Luo et al. 2017 ("Remembering history
/// with convolutional LSTM for anomaly detection"): every frame of a window goes through the same
/// spatial conv encoder (two stride-2 convolutions: [3, H, W] -> [2w, H/4, W/4]); a
/// <see cref="ConvLstmCell"/> runs over the T encoded frames in order (zero initial state), so each
/// step sees the motion history; every hidden state is decoded by the same conv decoder (two stride-2
/// transposed convolutions, sigmoid) back to a frame. Input and output are [N, T, 3, H, W] in [0, 1];
/// H and W must be multiples of 4.
/// </summary>
public sealed class ConvLstmAutoencoder : Module<Tensor, Tensor>
{
    private readonly Sequential encoder;
    private readonly ConvLstmCell lstm;
    private readonly Sequential decoder;

    /// <param name="width">Channels of the first encoder convolution (the second has twice as many).</param>
    /// <param name="hidden">Channels of the ConvLSTM state.</param>
    /// <param name="kernelSize">Odd kernel of the ConvLSTM gate convolution.</param>
    public ConvLstmAutoencoder(int width = 32, int hidden = 64, int kernelSize = 3) : base(nameof(ConvLstmAutoencoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        Width = width;
        Hidden = hidden;
        encoder = Sequential(
            ("0", Conv2d(3, width, kernel_size: 3, stride: 2, padding: 1)),
            ("1", LeakyReLU(0.2)),
            ("2", Conv2d(width, 2 * width, kernel_size: 3, stride: 2, padding: 1)),
            ("3", LeakyReLU(0.2)));
        lstm = new ConvLstmCell(2 * width, hidden, kernelSize);
        decoder = Sequential(
            ("0", ConvTranspose2d(hidden, width, kernel_size: 4, stride: 2, padding: 1)),
            ("1", LeakyReLU(0.2)),
            ("2", ConvTranspose2d(width, 3, kernel_size: 4, stride: 2, padding: 1)),
            ("3", Sigmoid()));
        RegisterComponents();
    }

    /// <summary>Channels of the first encoder convolution.</summary>
    public int Width { get; }

    /// <summary>Channels of the ConvLSTM state.</summary>
    public int Hidden { get; }

    /// <summary>Reconstruction of a window [N, T, 3, H, W] in [0, 1]: same shape, in (0, 1).</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 5 || input.shape[2] != 3 || input.shape[3] % 4 != 0 || input.shape[4] % 4 != 0)
        {
            throw new ArgumentException($"expected [N, T, 3, H, W] with H and W multiples of 4, got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        using var scope = NewDisposeScope();
        long n = input.shape[0], steps = input.shape[1], height = input.shape[3], width = input.shape[4];
        var encoded = encoder.call(input.reshape(n * steps, 3, height, width));
        encoded = encoded.reshape(n, steps, encoded.shape[1], encoded.shape[2], encoded.shape[3]);

        var (h, c) = lstm.ZeroState(encoded.select(1, 0));
        var states = new Tensor[steps];
        for (var t = 0; t < steps; t++)
        {
            (h, c) = lstm.call(encoded.select(1, t), h, c);
            states[t] = h;
        }

        var decoded = decoder.call(stack(states, 1).reshape(n * steps, Hidden, encoded.shape[3], encoded.shape[4]));
        return decoded.reshape(n, steps, 3, height, width).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encoder.Dispose();
            lstm.Dispose();
            decoder.Dispose();
        }

        base.Dispose(disposing);
    }
}
