using StreamAnomaly.Vision.Models;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Autoencoder;

/// <summary>
/// The baseline of both source papers: a convolutional autoencoder with a small fully-connected
/// bottleneck. Four stride-2 convolutions take a [N, 3, S, S] image in [0, 1] down to
/// [N, 2w, S/16, S/16]; a linear layer squeezes that to <c>code</c> floats (default 512 = 2 KB,
/// the size the integrated-CNN paper found necessary: a wide bottleneck lets the network copy
/// unseen objects through); four transposed convolutions rebuild the image, ending in a sigmoid.
/// S must be a multiple of 16.
/// </summary>
public sealed class ConvAutoencoder : Module<Tensor, Tensor>
{
    private readonly Sequential encoder;
    private readonly Linear to_code;
    private readonly Linear from_code;
    private readonly Sequential decoder;
    private readonly long[] gridShape;

    public ConvAutoencoder(int inputSize, int width = 32, int code = 512) : base(nameof(ConvAutoencoder))
    {
        if (inputSize < 16 || inputSize % 16 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "input size must be a positive multiple of 16");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(code);
        InputSize = inputSize;
        CodeSize = code;

        var channels = ConvStack.Channels(width);
        var grid = inputSize / 16;
        gridShape = [channels[4], grid, grid];
        var flat = channels[4] * grid * grid;

        encoder = ConvStack.Down(channels);
        to_code = Linear(flat, code);
        from_code = Linear(code, flat);
        decoder = ConvStack.Up(channels);

        RegisterComponents();
    }

    /// <summary>Side of the square input in pixels.</summary>
    public int InputSize { get; }

    /// <summary>Number of floats in the bottleneck code.</summary>
    public int CodeSize { get; }

    /// <summary>Reconstruction of <paramref name="input"/> ([N, 3, S, S] in [0, 1]), same shape: <see cref="Decode"/> of <see cref="Encode"/>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Decode(Encode(input)).MoveToOuterDisposeScope();
    }

    /// <summary>The bottleneck code of <paramref name="input"/> ([N, 3, S, S] in [0, 1]): [N, code].</summary>
    public Tensor Encode(Tensor input)
    {
        using var scope = NewDisposeScope();
        return to_code.call(encoder.call(input).flatten(1)).MoveToOuterDisposeScope();
    }

    /// <summary>The image a bottleneck <paramref name="code"/> [N, code] decodes to: [N, 3, S, S] in [0, 1].</summary>
    public Tensor Decode(Tensor code) => DecodeGrid(from_code, decoder, code, gridShape);

    /// <summary>
    /// The decoder half the autoencoder family shares: a linear layer from the code to the grid of
    /// the last convolution, ReLU, then the transposed convolutions: [N, code] -> [N, 3, S, S].
    /// </summary>
    internal static Tensor DecodeGrid(Linear fromCode, Sequential decoder, Tensor code, long[] gridShape)
    {
        using var scope = NewDisposeScope();
        var grid = fromCode.call(code).relu().view([code.shape[0], .. gridShape]);
        return decoder.call(grid).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encoder.Dispose();
            to_code.Dispose();
            from_code.Dispose();
            decoder.Dispose();
        }

        base.Dispose(disposing);
    }
}
