using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.PatchCore;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>
/// One vector per frame from the pretrained ImageNet ResNet-18: the frame mean of its layer2 and
/// layer3 features (the same <see cref="PatchFeatures.Dimension"/>-d features PatchCore compares
/// patch by patch). The whole-frame detectors (<c>lof</c>, <c>iforest</c>) model these.
/// </summary>
public static class FrameEmbeddings
{
    /// <summary>Frames per forward pass.</summary>
    public const int BatchSize = 8;

    /// <summary>Embeddings [N, D] of a preprocessed batch [N, 3, S, S].</summary>
    public static Tensor Of(PretrainedResNet18 backbone, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        using var scope = NewDisposeScope();
        return PatchFeatures.Of(backbone, input, neighbourhood: 1).mean([2, 3]).MoveToOuterDisposeScope();
    }

    /// <summary>Embeddings [N, D] of <paramref name="frames"/> resized to <paramref name="size"/> pixels, computed in batches on <paramref name="device"/>.</summary>
    public static Tensor Of(PretrainedResNet18 backbone, IEnumerable<Frame> frames, int size, Device device, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(frames);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var chunks = new List<Tensor>();
        foreach (var batch in frames.Chunk(BatchSize))
        {
            cancellation.ThrowIfCancellationRequested();
            chunks.Add(Of(backbone, backbone.Preprocessing.FromFrames(batch, size, size, device)));
        }

        return (chunks.Count == 0 ? zeros(0, PatchFeatures.Dimension, device: device) : cat(chunks, 0)).MoveToOuterDisposeScope();
    }
}
