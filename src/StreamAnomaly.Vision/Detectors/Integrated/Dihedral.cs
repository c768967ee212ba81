using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>
/// The eight symmetries of a square image (rotations by multiples of 90 degrees and their mirror
/// images), applied alike to a batch of images and to its instance targets: the segmentation stage's
/// augmentation. Normal objects come in any orientation (a hand reaching down, not only in from the
/// sides as in the training footage), so the head must not learn one.
/// Symmetry k (0-7): transpose when k &gt;= 4, then mirror left-right when bit 0 is set and
/// upside-down when bit 1 is set; k = 0 is the identity. Non-square images allow k &lt; 4 only.
/// </summary>
public static class Dihedral
{
    /// <summary>How many symmetries an image of this size has: 8 when square, else 4 (mirrors only).</summary>
    public static int Count(int width, int height) => width == height ? 8 : 4;

    /// <summary>Symmetry <paramref name="k"/> of a batch [N, C, H, W] (a new tensor).</summary>
    public static Tensor Apply(Tensor images, int k)
    {
        ArgumentNullException.ThrowIfNull(images);
        Check(k, (int)images.shape[3], (int)images.shape[2]);
        using var scope = NewDisposeScope();
        var result = k >= 4 ? images.transpose(2, 3) : images;
        var dims = new List<long>(2);
        if ((k & 1) != 0)
        {
            dims.Add(3);
        }

        if ((k & 2) != 0)
        {
            dims.Add(2);
        }

        result = dims.Count > 0 ? result.flip([.. dims]) : k >= 4 ? result.contiguous() : images.clone();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Symmetry <paramref name="k"/> of one image's instances: masks moved pixel by pixel, boxes re-fitted to them.</summary>
    public static SegmentationTargets Apply(SegmentationTargets targets, int k)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return new SegmentationTargets(targets.Instances.Select(instance =>
        {
            var mask = Apply(instance.Mask, k);
            return instance with { Mask = mask, Box = PseudoLabeler.TightBox(mask) };
        }).ToArray());
    }

    /// <summary>Symmetry <paramref name="k"/> of a mask.</summary>
    public static BinaryMask Apply(BinaryMask mask, int k)
    {
        ArgumentNullException.ThrowIfNull(mask);
        Check(k, mask.Width, mask.Height);
        var (width, height) = k >= 4 ? (mask.Height, mask.Width) : (mask.Width, mask.Height);
        var data = new bool[mask.Data.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                // Undo the mirrors, then the transpose, to find the source pixel.
                var sx = (k & 1) != 0 ? width - 1 - x : x;
                var sy = (k & 2) != 0 ? height - 1 - y : y;
                (sx, sy) = k >= 4 ? (sy, sx) : (sx, sy);
                data[(y * width) + x] = mask.Data[(sy * mask.Width) + sx];
            }
        }

        return new BinaryMask(width, height, data);
    }

    private static void Check(int k, int width, int height)
    {
        if (k < 0 || k >= Count(width, height))
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"a {width}x{height} image has symmetries 0..{Count(width, height) - 1}");
        }
    }
}
