using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>
/// The decoder (autoencoder) head of the integrated CNN.
/// <para>Design: P3 and P4 are average-pooled to P5's grid (stride 32) and concatenated with P5
/// (3 x F channels, so fine and coarse levels both feed the code); a 1x1 conv + BN + ReLU
/// (<c>squeeze</c>) reduces that to <c>squeezeChannels</c>; the grid is flattened and a linear
/// layer (<c>to_code</c>) makes the code of <see cref="CodeSize"/> floats (default 512 = 2 KB, the
/// paper's ~2 KB). The decoder starts from the code alone: a linear layer (<c>from_code</c>) + ReLU
/// to a [4w, H/32, W/32] grid, five transposed-conv x2 stages (BN, ReLU; channels 4w, 2w, 2w, w, w)
/// back to H x W, and a 3x3 conv to 3 channels with a sigmoid.</para>
/// <para>The code is the ONLY path from encoder to decoder: no skip connection, because the paper's
/// point is that a ResNet's skip paths copy unseen objects through to the reconstruction.</para>
/// H and W must be multiples of 32 and fixed at construction (the linear layers depend on them).
/// </summary>
public sealed class ReconstructionHead : Module<(Tensor P3, Tensor P4, Tensor P5), Tensor>
{
    private readonly Sequential squeeze;
    private readonly Linear to_code;
    private readonly Linear from_code;
    private readonly Sequential decoder;
    private readonly long[] gridShape;

    public ReconstructionHead(int pyramidChannels, int inputHeight, int inputWidth, int codeSize = 512, int decoderWidth = 32, int squeezeChannels = 64)
        : base(nameof(ReconstructionHead))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pyramidChannels);
        CheckSide(inputHeight, nameof(inputHeight));
        CheckSide(inputWidth, nameof(inputWidth));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(codeSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(decoderWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(squeezeChannels);
        CodeSize = codeSize;
        InputHeight = inputHeight;
        InputWidth = inputWidth;

        long gh = inputHeight / 32, gw = inputWidth / 32, w = decoderWidth;
        squeeze = Sequential(
            Conv2d(3L * pyramidChannels, squeezeChannels, kernel_size: 1, bias: false),
            BatchNorm2d(squeezeChannels),
            ReLU());
        to_code = Linear(squeezeChannels * gh * gw, codeSize);
        gridShape = [4 * w, gh, gw];
        from_code = Linear(codeSize, 4 * w * gh * gw);
        long[] channels = [4 * w, 4 * w, 2 * w, 2 * w, w, w];
        var stages = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < 5; i++)
        {
            stages.Add(($"{i}", Sequential(
                ConvTranspose2d(channels[i], channels[i + 1], kernel_size: 4, stride: 2, padding: 1, bias: false),
                BatchNorm2d(channels[i + 1]),
                ReLU())));
        }

        stages.Add(("5", Sequential(Conv2d(w, 3, kernel_size: 3, padding: 1), Sigmoid())));
        decoder = Sequential(stages);
        RegisterComponents();
    }

    /// <summary>Floats in the bottleneck code (default 512 = 2 KB).</summary>
    public int CodeSize { get; }

    public int InputHeight { get; }

    public int InputWidth { get; }

    /// <summary>Reconstruction [N, 3, H, W] in [0, 1] = <see cref="Decode"/>(<see cref="Encode"/>(P3, P4, P5)).</summary>
    public override Tensor forward((Tensor P3, Tensor P4, Tensor P5) input)
    {
        using var scope = NewDisposeScope();
        return Decode(Encode(input.P3, input.P4, input.P5)).MoveToOuterDisposeScope();
    }

    /// <summary>The bottleneck code [N, <see cref="CodeSize"/>] of pyramid levels P3..P5.</summary>
    public Tensor Encode(Tensor p3, Tensor p4, Tensor p5)
    {
        using var scope = NewDisposeScope();
        long[] grid = [gridShape[1], gridShape[2]];
        if (p5.shape[2] != grid[0] || p5.shape[3] != grid[1])
        {
            throw new ArgumentException($"P5 is {p5.shape[2]}x{p5.shape[3]} but this head was built for a {grid[0]}x{grid[1]} grid ({InputHeight}x{InputWidth} input)");
        }

        var merged = cat([functional.adaptive_avg_pool2d(p3, grid), functional.adaptive_avg_pool2d(p4, grid), p5], 1);
        var code = to_code.call(squeeze.call(merged).flatten(1));
        return code.MoveToOuterDisposeScope();
    }

    /// <summary>Reconstruction [N, 3, H, W] in [0, 1] from a code [N, <see cref="CodeSize"/>] alone.</summary>
    public Tensor Decode(Tensor code)
    {
        using var scope = NewDisposeScope();
        var grid = functional.relu(from_code.call(code)).view([code.shape[0], .. gridShape]);
        return decoder.call(grid).MoveToOuterDisposeScope();
    }

    private static void CheckSide(int side, string name)
    {
        if (side < 32 || side % 32 != 0)
        {
            throw new ArgumentOutOfRangeException(name, side, "input sides must be positive multiples of 32");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            squeeze.Dispose();
            to_code.Dispose();
            from_code.Dispose();
            decoder.Dispose();
        }

        base.Dispose(disposing);
    }
}
