using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Training;
using Xunit;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

public sealed class CopyPasteTests
{
    private const int Size = 32;

    /// <summary>Frame 0: a 10 x 10 object of value 1 at (4, 4) on a background of 0; frame 1: empty (value 0.5).</summary>
    private static (Tensor Images, SegmentationTargets[] Targets) Batch()
    {
        var images = full(new long[] { 2, 3, Size, Size }, 0.5f);
        images[TensorIndex.Single(0)].fill_(0f);
        images[TensorIndex.Single(0), TensorIndex.Colon, TensorIndex.Slice(4, 14), TensorIndex.Slice(4, 14)].fill_(1f);
        var mask = new BinaryMask(Size, Size, Enumerable.Range(0, Size * Size).Select(p => p % Size is >= 4 and < 14 && p / Size is >= 4 and < 14).ToArray());
        return (images, [new SegmentationTargets([new InstanceTarget(PseudoLabeler.TightBox(mask), mask)]), SegmentationTargets.None]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_pasted_instance_covers_exactly_the_pixels_that_changed(bool rotate)
    {
        var (images, targets) = Batch();
        using var _ = images;

        var (pasted, labels) = CopyPaste.Apply(images, targets, new Random(1), new CopyPasteOptions(Probability: 1, Rotate: rotate));

        using (pasted)
        {
            var instance = Assert.Single(labels[1].Instances);
            var changed = pasted[1].ne(images[1]).any(0).data<bool>().ToArray();
            Assert.Equal(changed, instance.Mask.Data);
            Assert.True(instance.Mask.Area >= 16, $"a piece of {instance.Mask.Area} pixels");
            Assert.Equal(PseudoLabeler.TightBox(instance.Mask), instance.Box);
            Assert.All(pasted[1].masked_select(tensor(instance.Mask.Data, [1, Size, Size])).data<float>().ToArray(), v => Assert.Equal(1f, v));
        }
    }

    [Fact]
    public void An_instance_under_a_pasted_piece_loses_the_covered_pixels()
    {
        var (images, targets) = Batch();
        using var _ = images;

        for (var seed = 0; seed < 20; seed++)
        {
            var (pasted, labels) = CopyPaste.Apply(images, targets, new Random(seed), new CopyPasteOptions(Probability: 1));
            pasted.Dispose();
            var piece = labels[0].Instances[^1].Mask;
            foreach (var kept in labels[0].Instances.SkipLast(1))
            {
                Assert.DoesNotContain(Enumerable.Range(0, Size * Size), p => kept.Mask.Data[p] && piece.Data[p]);
                Assert.Equal(targets[0].Instances[0].Mask.Area, kept.Mask.Area + Enumerable.Range(0, Size * Size).Count(p => piece.Data[p] && targets[0].Instances[0].Mask.Data[p]));
            }
        }
    }

    [Fact]
    public void The_input_batch_is_left_unchanged()
    {
        var (images, targets) = Batch();
        using var _ = images;
        using var before = images.clone();

        var (pasted, _) = CopyPaste.Apply(images, targets, new Random(3), new CopyPasteOptions(Probability: 1));
        pasted.Dispose();

        Assert.True(before.allclose(images, rtol: 0, atol: 0));
    }

    [Fact]
    public void Probability_zero_changes_nothing()
    {
        var (images, targets) = Batch();
        using var _ = images;

        var (pasted, labels) = CopyPaste.Apply(images, targets, new Random(3), new CopyPasteOptions(Probability: 0));

        using (pasted)
        {
            Assert.True(pasted.allclose(images, rtol: 0, atol: 0));
            Assert.Equal(targets, labels);
        }
    }

    [Fact]
    public void A_quarter_turn_moves_each_pixel_of_a_piece_to_its_turned_place()
    {
        // 3 x 2 piece showing donor pixels 0..5 row by row; turned clockwise on screen (y down)
        var piece = new Piece(3, 2, [0, 1, 2, 3, 4, 5]);

        var turned = CopyPaste.Rotated(piece, Math.PI / 2, minPixels: 1)!;

        Assert.Equal((2, 3), (turned.Width, turned.Height));
        Assert.Equal([3, 0, 4, 1, 5, 2], turned.Source);
    }

    [Fact]
    public void A_piece_turned_by_an_odd_angle_keeps_its_area_and_shows_only_its_own_pixels()
    {
        var piece = new Piece(10, 10, Enumerable.Range(100, 100).ToArray());

        var turned = CopyPaste.Rotated(piece, 0.7, minPixels: 1)!;

        var shown = turned.Source.Where(p => p != Piece.Outside).ToArray();
        Assert.InRange(shown.Length, 90, 110);
        Assert.All(shown, p => Assert.InRange(p, 100, 199));
        Assert.InRange(turned.Width, 13, 14);
    }

    [Fact]
    public void A_turned_piece_below_the_minimum_size_is_dropped()
    {
        Assert.Null(CopyPaste.Rotated(new Piece(4, 4, Enumerable.Range(0, 16).ToArray()), 0.3, minPixels: 40));
    }

    [Fact]
    public void Leaves_no_live_tensor_behind()
    {
        var (images, targets) = Batch();
        using var _ = images;
        CopyPaste.Apply(images, targets, new Random(3), new CopyPasteOptions(Probability: 1)).Images.Dispose();
        var before = LeakProbe.LiveTensors;

        CopyPaste.Apply(images, targets, new Random(4), new CopyPasteOptions(Probability: 1)).Images.Dispose();

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
