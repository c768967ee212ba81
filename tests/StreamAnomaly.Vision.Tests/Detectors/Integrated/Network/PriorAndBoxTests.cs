using StreamAnomaly.Vision.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

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
        var priors = PriorBoxes.Generate(64, 64, anchors);
        Assert.Equal(TinyNetworks.PriorCount, priors.GetLength(0));
        Assert.Equal(6, anchors.AnchorsPerLocation);

        // Level P3 (8x8, stride 8), cell (x=0, y=0): 2 x 8 = 16 px with ratios 1, 1/2, 2, then 3 x 8 = 24 px.
        var s = 16.0 / 64;
        AssertRow(priors, 0, 0.0625, 0.0625, s, s);
        AssertRow(priors, 1, 0.0625, 0.0625, s * Math.Sqrt(0.5), s / Math.Sqrt(0.5));
        AssertRow(priors, 2, 0.0625, 0.0625, s * Math.Sqrt(2), s / Math.Sqrt(2));
        AssertRow(priors, 3, 0.0625, 0.0625, 24.0 / 64, 24.0 / 64);

        // Cell (x=1, y=0) comes next, then the row below: (x=0, y=1) is location 8.
        AssertRow(priors, 6, 0.1875, 0.0625, s, s);
        AssertRow(priors, 48, 0.0625, 0.1875, s, s);

        // P4 starts after 64 locations x 6: stride 16, so 32 px, 4x4 grid.
        AssertRow(priors, 384, 0.125, 0.125, 32.0 / 64, 32.0 / 64);

        // P7: stride 128, one location at the centre; the last anchor is the wide 3 x 128 px one.
        AssertRow(priors, TinyNetworks.PriorCount - 1, 0.5, 0.5, 384.0 / 64 * Math.Sqrt(2), 384.0 / 64 / Math.Sqrt(2));
    }

    [Fact]
    public void At_550_pixels_the_three_stride_anchors_are_yolacts_scales()
    {
        var priors = PriorBoxes.Generate(550, 550, new AnchorOptions { StrideMultiples = [3], AspectRatios = [1] });
        var offset = 0;
        foreach (var ((h, w), scale) in PriorBoxes.LevelSizes(550, 550).Zip(new[] { 24, 48, 96, 192, 384 }))
        {
            Assert.Equal(scale / 550.0, priors[offset, 2], 6);
            offset += h * w;
        }
    }

    /// <summary>
    /// The bug this guards against: YOLACT's pixel scales shrunk to a 64 px input left a 14 px object
    /// without any prior at IoU 0.5 in 94 % of its positions (its best prior a coarse-level one at a
    /// fixed place). Every position of a square of the sizes the tests and the benchmark use must
    /// find a nearby prior: at IoU 0.5 when its side is 2 or 3 strides of a level (16, 24, 32, 48 ...),
    /// at 0.45 or more halfway between (20, 40, 80 px: 0.497 at worst), and for the 14 px square of
    /// the 64 px tests (under two finest strides) in most positions and never below 0.35.
    /// </summary>
    [Theory]
    [InlineData(64, 14, 0.35, 0.75)]
    [InlineData(64, 20, 0.45, 0.9)]
    [InlineData(64, 24, 0.5, 1.0)]
    [InlineData(64, 32, 0.5, 1.0)]
    [InlineData(64, 48, 0.5, 1.0)]
    [InlineData(128, 20, 0.45, 0.9)]
    [InlineData(128, 40, 0.45, 0.9)]
    [InlineData(128, 48, 0.5, 1.0)]
    [InlineData(128, 80, 0.45, 0.9)]
    public void Every_position_of_an_object_has_a_close_prior(int size, int side, double worstIou, double shareAtHalf)
    {
        using var scope = NewDisposeScope();
        var priors = BoxCoding.PointForm(PriorBoxes.ForInput(size, size, new AnchorOptions()));
        var corners = new List<float>();
        for (var y = 0; y + side <= size; y++)
        {
            for (var x = 0; x + side <= size; x++)
            {
                corners.AddRange([x / (float)size, y / (float)size, (x + side) / (float)size, (y + side) / (float)size]);
            }
        }

        var squares = tensor(corners.ToArray(), [corners.Count / 4, 4]);
        var (best, _) = BoxCoding.Iou(squares, priors).max(1);
        var worst = best.min().item<float>();
        var share = (best >= 0.5).to_type(ScalarType.Float32).mean().item<float>();
        Assert.True(worst >= worstIou, $"a {side} px square in {size} px: worst best-prior IoU {worst:F3}");
        Assert.True(share >= shareAtHalf, $"a {side} px square in {size} px: {share:P0} of positions have a prior at IoU 0.5");
    }

    [Fact]
    public void Anchors_need_a_stride_multiple_and_an_aspect_ratio()
    {
        Assert.Throws<ArgumentException>(() => PriorBoxes.Generate(64, 64, new AnchorOptions { StrideMultiples = [] }));
        Assert.Throws<ArgumentException>(() => PriorBoxes.Generate(64, 64, new AnchorOptions { AspectRatios = [1, 0] }));
        Assert.Throws<ArgumentException>(() => new IntegratedNetwork(TinyNetworks.Options() with { Anchors = new AnchorOptions { StrideMultiples = [-2] } }));
    }

    [Fact]
    public void Encode_then_decode_gives_the_boxes_back()
    {
        using var scope = NewDisposeScope();
        var priors = PriorBoxes.ForInput(64, 64, new AnchorOptions());
        var count = priors.shape[0];
        var lo = rand(count, 2) * 0.6;
        var boxes = cat([lo, (lo + 0.05).Plus(rand(count, 2) * 0.3)], 1);
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
