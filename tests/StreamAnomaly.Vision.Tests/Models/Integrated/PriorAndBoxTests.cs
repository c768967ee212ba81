using StreamAnomaly.Vision.Models.Integrated;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Models.Integrated;

public sealed class PriorAndBoxTests
{
    [Fact]
    public void Level_sizes_halve_with_ceiling_from_stride_8()
    {
        Assert.Equal([(8, 8), (4, 4), (2, 2), (1, 1), (1, 1)], PriorBoxes.LevelSizes(64, 64));
        Assert.Equal([(69, 69), (35, 35), (18, 18), (9, 9), (5, 5)], PriorBoxes.LevelSizes(550, 550));
    }

    [Fact]
    public void Priors_are_hand_checkable()
    {
        var anchors = new AnchorOptions();
        var priors = PriorBoxes.Generate(PriorBoxes.LevelSizes(64, 64), anchors);
        Assert.Equal(TinyNetworks.PriorCount, priors.GetLength(0));

        // Level P3 (8x8), cell (x=0, y=0): ratios 1, 1/2, 2 at 24 px of 550.
        var s = 24.0 / 550;
        AssertRow(priors, 0, 0.0625, 0.0625, s, s);
        AssertRow(priors, 1, 0.0625, 0.0625, s * Math.Sqrt(0.5), s / Math.Sqrt(0.5));
        AssertRow(priors, 2, 0.0625, 0.0625, s * Math.Sqrt(2), s / Math.Sqrt(2));

        // Cell (x=1, y=0) comes next, then the row below: (x=0, y=1) is location 8.
        AssertRow(priors, 3, 0.1875, 0.0625, s, s);
        AssertRow(priors, 24, 0.0625, 0.1875, s, s);

        // P4 starts after 64 locations x 3: 48 px, 4x4 grid.
        AssertRow(priors, 192, 0.125, 0.125, 48.0 / 550, 48.0 / 550);

        // P7: one 384 px anchor per ratio at the centre; the last is the wide one.
        AssertRow(priors, TinyNetworks.PriorCount - 1, 0.5, 0.5, 384.0 / 550 * Math.Sqrt(2), 384.0 / 550 / Math.Sqrt(2));
    }

    [Fact]
    public void Priors_need_one_scale_per_level()
    {
        var anchors = new AnchorOptions { Scales = [24, 48] };
        Assert.Throws<ArgumentException>(() => PriorBoxes.Generate(PriorBoxes.LevelSizes(64, 64), anchors));
    }

    [Fact]
    public void Encode_then_decode_gives_the_boxes_back()
    {
        using var scope = NewDisposeScope();
        var priors = PriorBoxes.ForInput(64, 64, new AnchorOptions());
        var count = priors.shape[0];
        var lo = rand(count, 2) * 0.6;
        var boxes = cat([lo, lo + 0.05 + (rand(count, 2) * 0.3)], 1);
        var encoded = BoxCoding.Encode(boxes, priors);
        var decoded = BoxCoding.Decode(encoded, priors);
        Assert.True(decoded.allclose(boxes, rtol: 1e-4, atol: 1e-5));

        // Known value: a box equal to its prior encodes to zero.
        var zero = BoxCoding.Encode(BoxCoding.PointForm(priors), priors);
        Assert.True(zero.abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void Iou_of_hand_made_boxes()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 0, 0, 10, 10, 20, 20, 30, 30 }, [2, 4]);
        var b = tensor(new float[] { 5, 0, 15, 10 }, [1, 4]);
        var iou = BoxCoding.Iou(a, b).data<float>().ToArray();
        Assert.Equal(50f / 150f, iou[0], 5);
        Assert.Equal(0f, iou[1]);
    }

    private static void AssertRow(float[,] priors, int row, double cx, double cy, double w, double h)
    {
        Assert.Equal(cx, priors[row, 0], 5);
        Assert.Equal(cy, priors[row, 1], 5);
        Assert.Equal(w, priors[row, 2], 5);
        Assert.Equal(h, priors[row, 3], 5);
    }
}
