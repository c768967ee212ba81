using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Training;
using Xunit;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

public sealed class DecoyPasteTests
{
    private const int Size = 32;

    /// <summary>
    /// Frame 0: a 10 x 10 labelled object of value 1 at (4, 4) on a horizontal ramp (every pixel
    /// differs, so any paste shows); frame 1: the same ramp without an object.
    /// </summary>
    private static (Tensor Images, SegmentationTargets[] Targets) Batch()
    {
        var ramp = arange(Size * Size).to_type(ScalarType.Float32).div(Size * Size * 2.0).reshape(1, 1, Size, Size);
        var images = ramp.expand(2, 3, Size, Size).contiguous();
        images[TensorIndex.Single(0), TensorIndex.Colon, TensorIndex.Slice(4, 14), TensorIndex.Slice(4, 14)].fill_(1f);
        var mask = new BinaryMask(Size, Size, Enumerable.Range(0, Size * Size).Select(p => p % Size is >= 4 and < 14 && p / Size is >= 4 and < 14).ToArray());
        return (images, [new SegmentationTargets([new InstanceTarget(PseudoLabeler.TightBox(mask), mask)]), SegmentationTargets.None]);
    }

    private static bool[] Changed(Tensor after, Tensor before, int frame) => after[frame].ne(before[frame]).any(0).flatten().data<bool>().ToArray();

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void A_decoy_never_touches_a_labelled_object(double solid)
    {
        var (images, targets) = Batch();
        using var _ = images;
        var pasted = 0;
        for (var seed = 0; seed < 30; seed++)
        {
            using var decoyed = DecoyPaste.Apply(images, targets, new Random(seed), new DecoyPasteOptions(Probability: 1, Solid: solid));
            var changed = Changed(decoyed, images, 0);
            Assert.DoesNotContain(Enumerable.Range(0, Size * Size), p => changed[p] && targets[0].Instances[0].Mask.Data[p]);
            pasted += changed.Any(c => c) ? 1 : 0;
        }

        Assert.True(pasted >= 20, $"only {pasted} of 30 frames with an object got a decoy beside it");
    }

    [Fact]
    public void A_decoy_is_one_filled_ellipse_within_the_size_range()
    {
        var (images, targets) = Batch();
        using var _ = images;
        using var decoyed = DecoyPaste.Apply(images, targets, new Random(5), new DecoyPasteOptions(Probability: 1, MinSide: 0.25, MaxSide: 0.5));
        var changed = Changed(decoyed, images, 1);
        var pixels = Enumerable.Range(0, Size * Size).Where(p => changed[p]).ToArray();
        var (width, height) = (pixels.Max(p => p % Size) - pixels.Min(p => p % Size) + 1, pixels.Max(p => p / Size) - pixels.Min(p => p / Size) + 1);

        Assert.InRange(width, 8, 16);
        Assert.InRange(height, 8, 16);
        // an inscribed ellipse fills pi / 4 of its box; recolouring can leave a few pixels as they were
        Assert.InRange(pixels.Length / (double)(width * height), 0.6, 0.85);
    }

    [Fact]
    public void A_solid_decoy_is_one_colour_shaded_by_at_most_15_percent_either_way()
    {
        var (images, targets) = Batch();
        using var _ = images;
        using var decoyed = DecoyPaste.Apply(images, targets, new Random(7), new DecoyPasteOptions(Probability: 1, MinSide: 0.4, MaxSide: 0.5, Solid: 1));
        var changed = Changed(decoyed, images, 1);
        var pixels = Enumerable.Range(0, Size * Size).Where(p => changed[p]).ToArray();
        Assert.True(pixels.Length >= 20, $"only {pixels.Length} pixels changed");
        var values = decoyed[1].reshape(3, Size * Size).data<float>().ToArray();
        for (var c = 0; c < 3; c++)
        {
            var channel = pixels.Select(p => values[(c * Size * Size) + p]).ToArray();
            var middle = (channel.Max() + channel.Min()) / 2;
            Assert.All(channel, v => Assert.InRange(v, (middle * 0.85f) - 1e-3f, (middle * 1.15f) + 1e-3f));
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void A_polygon_is_filled_around_its_centre_and_no_longer_than_asked(double aspect)
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var inside = DecoyPaste.Polygon(new Random(seed), 20, aspect);
            var (h, w) = (inside.GetLength(0), inside.GetLength(1));
            Assert.InRange(Math.Max(w, h), 8, 21);
            Assert.True(inside[h / 2, w / 2], $"seed {seed}: the centre is not filled");
            var area = inside.Cast<bool>().Count(b => b);
            Assert.InRange(area, 0.2 * 20 * 20 / aspect * Math.PI / 4, 20 * 20 / aspect * Math.PI / 4);
        }
    }

    [Fact]
    public void An_ellipse_box_is_filled_in_the_middle_and_empty_in_the_corners()
    {
        var inside = DecoyPaste.Ellipse(7, 5);
        Assert.Equal(5, inside.GetLength(0));
        Assert.Equal(7, inside.GetLength(1));
        Assert.True(inside[2, 0] && inside[2, 6] && inside[0, 3] && inside[4, 3] && inside[2, 3]);
        Assert.False(inside[0, 0] || inside[0, 6] || inside[4, 0] || inside[4, 6]);
    }

    [Fact]
    public void The_input_batch_is_left_unchanged()
    {
        var (images, targets) = Batch();
        using var _ = images;
        using var before = images.clone();

        DecoyPaste.Apply(images, targets, new Random(3), new DecoyPasteOptions(Probability: 1)).Dispose();

        Assert.True(before.allclose(images, rtol: 0, atol: 0));
    }

    [Fact]
    public void Probability_zero_changes_nothing()
    {
        var (images, targets) = Batch();
        using var _ = images;
        using var decoyed = DecoyPaste.Apply(images, targets, new Random(3), new DecoyPasteOptions(Probability: 0));
        Assert.True(decoyed.allclose(images, rtol: 0, atol: 0));
    }

    [Fact]
    public void Targets_for_another_number_of_frames_are_refused()
    {
        var (images, targets) = Batch();
        using var _ = images;
        Assert.Throws<ArgumentException>(() => DecoyPaste.Apply(images, targets.Take(1).ToArray(), new Random(3)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Leaves_no_live_tensor_behind(double solid)
    {
        var (images, targets) = Batch();
        using var _ = images;
        DecoyPaste.Apply(images, targets, new Random(3), new DecoyPasteOptions(Probability: 1, Solid: solid)).Dispose();
        var before = LeakProbe.LiveTensors;

        DecoyPaste.Apply(images, targets, new Random(4), new DecoyPasteOptions(Probability: 1, Solid: solid)).Dispose();

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
