using StreamAnomaly.Vision.Models.Pretrained;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>
/// PatchCore's locally aware patch features: the pretrained ResNet-18's layer2 and layer3 maps,
/// each averaged over a <c>k x k</c> neighbourhood of patches, layer3 upsampled (bilinear) to
/// layer2's grid and the two concatenated: one <see cref="Dimension"/>-d feature per layer2 patch
/// (1/8 of the input side: 28 x 28 patches at 224 px).
/// </summary>
public static class PatchFeatures
{
    /// <summary>Feature dimension: layer2's 128 channels plus layer3's 256.</summary>
    public static readonly int Dimension = (int)(PretrainedResNet18.Channels(PretrainedStage.Layer2) + PretrainedResNet18.Channels(PretrainedStage.Layer3));

    /// <summary>Input pixels per patch side (layer2's stride).</summary>
    public const int Stride = 8;

    /// <summary>Patch features [N, <see cref="Dimension"/>, H/8, W/8] of a preprocessed batch [N, 3, H, W].</summary>
    public static Tensor Of(PretrainedResNet18 backbone, Tensor input, int neighbourhood)
    {
        using var scope = NewDisposeScope();
        return OfWithLayer3(backbone, input, neighbourhood).Patches.MoveToOuterDisposeScope();
    }

    /// <summary>The patch features of <see cref="Of"/> and the raw layer3 map [N, 256, H/16, W/16] they were made from.</summary>
    public static (Tensor Patches, Tensor Layer3) OfWithLayer3(PretrainedResNet18 backbone, Tensor input, int neighbourhood)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var maps = backbone.Features(input, PretrainedStage.Layer2, PretrainedStage.Layer3);
        var fine = Aggregate(maps[0], neighbourhood);
        var coarse = interpolate(Aggregate(maps[1], neighbourhood), size: [fine.shape[2], fine.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
        return (cat([fine, coarse], 1).MoveToOuterDisposeScope(), maps[1].MoveToOuterDisposeScope());
    }

    /// <summary>[N, D, h, w] to one row per patch [N * h * w, D], patches of a frame in row-major order.</summary>
    public static Tensor Rows(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1]);
    }

    /// <summary>The mean over each patch's k x k neighbourhood (edges average the patches that exist).</summary>
    private static Tensor Aggregate(Tensor map, int neighbourhood) =>
        neighbourhood <= 1 ? map : avg_pool2d(map, neighbourhood, stride: 1, padding: neighbourhood / 2, count_include_pad: false);
}
