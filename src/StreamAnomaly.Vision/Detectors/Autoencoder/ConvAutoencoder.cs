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

    /// <summary>Reconstruction of <paramref name="input"/> ([N, 3, S, S] in [0, 1]), same shape.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = encoder.call(input);
        var codeVector = to_code.call(features.flatten(1));
        var grid = from_code.call(codeVector).relu().view([input.shape[0], .. gridShape]);
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
