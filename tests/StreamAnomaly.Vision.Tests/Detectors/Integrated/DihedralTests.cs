using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Training;
using Xunit;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

public sealed class DihedralTests
{
    /// <summary>An L-shaped object in a corner of a 6 x 6 image: no two symmetries map it alike.</summary>
    private static BinaryMask LShape(int width = 6, int height = 6)
    {
        var data = new bool[width * height];
        foreach (var (x, y) in new[] { (0, 0), (1, 0), (2, 0), (0, 1), (0, 2), (0, 3) })
        {
            data[(y * width) + x] = true;
        }

        return new BinaryMask(width, height, data);
    }

    private static Tensor ImageOf(BinaryMask mask) =>
        tensor(mask.Data.Select(static v => v ? 1f : 0f).ToArray(), [1, 1, mask.Height, mask.Width]);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Image_and_mask_move_alike(int k)
    {
        var mask = LShape();
        using var image = ImageOf(mask);

        using var moved = Dihedral.Apply(image, k);

        using var expected = ImageOf(Dihedral.Apply(mask, k));
        Assert.Equal(expected.data<float>().ToArray(), moved.data<float>().ToArray());
    }

    [Fact]
    public void The_eight_symmetries_are_distinct_and_zero_is_the_identity()
    {
        var mask = LShape();
        var images = Enumerable.Range(0, 8).Select(k => string.Concat(Dihedral.Apply(mask, k).Data.Select(static v => v ? '1' : '0'))).ToArray();

        Assert.Equal(8, images.Distinct().Count());
        Assert.Equal(mask.Data, Dihedral.Apply(mask, 0).Data);
    }

    [Fact]
    public void Mirroring_left_right_moves_the_object_to_the_right_edge_and_refits_its_box()
    {
        var targets = new SegmentationTargets([new InstanceTarget(PseudoLabeler.TightBox(LShape()), LShape())]);

        var box = Assert.Single(Dihedral.Apply(targets, 1).Instances).Box;

        Assert.Equal(3f / 6, box.X1, 6);
        Assert.Equal(0f, box.Y1, 6);
        Assert.Equal(1f, box.X2, 6);
        Assert.Equal(4f / 6, box.Y2, 6);
    }

    [Fact]
    public void Transposing_swaps_the_boxs_axes()
    {
        var targets = new SegmentationTargets([new InstanceTarget(PseudoLabeler.TightBox(LShape()), LShape())]);

        var box = Assert.Single(Dihedral.Apply(targets, 4).Instances).Box;

        Assert.Equal(0f, box.X1, 6);
        Assert.Equal(4f / 6, box.X2, 6);
        Assert.Equal(3f / 6, box.Y2, 6);
    }

    [Fact]
    public void Non_square_images_have_only_the_four_mirrors()
    {
        var mask = LShape(8, 6);

        Assert.Equal(4, Dihedral.Count(8, 6));
        Assert.Equal(8, Dihedral.Count(6, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dihedral.Apply(mask, 4));
        using var image = ImageOf(mask);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dihedral.Apply(image, 4));
    }

    [Fact]
    public void Leaves_no_live_tensor_behind()
    {
        using var image = rand(2, 3, 8, 8);
        for (var k = 0; k < 8; k++)
        {
            using var warm = Dihedral.Apply(image, k);
        }

        var before = LeakProbe.LiveTensors;
        for (var k = 0; k < 8; k++)
        {
            using var moved = Dihedral.Apply(image, k);
        }

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
