using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.Cycle;

/// <summary>
/// What the cycle-phase detector sees of a frame: the pretrained ResNet-18's layer3 map, one
/// 256-d feature per cell of a (side / 16)^2 grid, each cell's feature scaled to unit length (so a
/// brightness change that scales a cell's activations does not move it, and every cell weighs the
/// same before the learned cell weights).
/// </summary>
public static class CycleFeatures
{
    /// <summary>Input pixels per cell side (layer3's stride).</summary>
    public const int Stride = 16;

    /// <summary>Feature channels per cell.</summary>
    public static readonly int Channels = (int)PretrainedResNet18.Channels(PretrainedStage.Layer3);

    /// <summary>Frames per forward pass.</summary>
    public const int BatchSize = 8;

    /// <summary>Cells per grid side at input side <paramref name="size"/>.</summary>
    public static int Grid(int size) => size / Stride;

    /// <summary>Unit-length cell features [N, cells, <see cref="Channels"/>] of <paramref name="frames"/> (any resolution).</summary>
    public static Tensor Of(PretrainedResNet18 backbone, IReadOnlyList<Frame> frames, int size, Device device)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(frames);
        using var scope = NewDisposeScope();
        var parts = frames.Chunk(BatchSize).Select(batch =>
        {
            var map = backbone.Features(backbone.Preprocessing.FromFrames(batch, size, size, device), PretrainedStage.Layer3)[0];
            return Cells(map);
        }).ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Unit-length cell features [N, cells, C] of a layer3 map [N, C, h, w] already computed.</summary>
    public static Tensor Cells(Tensor layer3)
    {
        ArgumentNullException.ThrowIfNull(layer3);
        return normalize(layer3.flatten(2).transpose(1, 2), p: 2, dim: 2);
    }
}
