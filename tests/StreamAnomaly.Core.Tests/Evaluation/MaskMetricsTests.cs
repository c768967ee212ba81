using FsCheck.Xunit;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Tests.Evaluation;

public class MaskMetricsTests
{
    /// <summary>A mask drawn as rows of '#' (inside) and '.' (outside).</summary>
    internal static BinaryMask Draw(params string[] rows) =>
        new(rows[0].Length, rows.Length, rows.SelectMany(r => r).Select(c => c == '#').ToArray());

    [Fact]
    public void IoU_is_intersection_pixels_over_union_pixels()
    {
        // a: columns 0-1 (8 px), b: columns 1-2 (8 px); intersection column 1 = 4 px, union 12 px.
        var a = Draw("##..", "##..", "##..", "##..");
        var b = Draw(".##.", ".##.", ".##.", ".##.");

        Assert.Equal(4.0 / 12.0, MaskMetrics.IoU(a, b), 1e-12);
    }

    [Fact]
    public void IoU_of_disjoint_masks_is_zero()
    {
        Assert.Equal(0.0, MaskMetrics.IoU(Draw("#.", ".."), Draw("..", ".#")));
    }

    [Fact]
    public void IoU_of_two_empty_masks_is_one()
    {
        Assert.Equal(1.0, MaskMetrics.IoU(BinaryMask.Empty(3, 2), BinaryMask.Empty(3, 2)));
    }

    [Fact]
    public void IoU_of_an_empty_and_a_non_empty_mask_is_zero()
    {
        Assert.Equal(0.0, MaskMetrics.IoU(BinaryMask.Empty(2, 2), Draw("#.", "..")));
    }

    [Fact]
    public void IoU_rejects_masks_of_different_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => MaskMetrics.IoU(BinaryMask.Empty(2, 3), BinaryMask.Empty(3, 2)));

        Assert.Contains("same size", error.Message, StringComparison.Ordinal);
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool IoU_lies_between_zero_and_one(MaskPair pair)
    {
        var iou = MaskMetrics.IoU(pair.A, pair.B);
        return iou is >= 0.0 and <= 1.0;
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool IoU_is_symmetric(MaskPair pair) =>
        MaskMetrics.IoU(pair.A, pair.B) == MaskMetrics.IoU(pair.B, pair.A);

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool IoU_of_a_mask_with_itself_is_one(MaskPair pair) =>
        MaskMetrics.IoU(pair.A, pair.A) == 1.0;

    [Fact]
    public void A_resized_mask_takes_the_source_pixel_under_each_target_centre()
    {
        // 2x2 checker (top-left and bottom-right set) -> 4x4: each source pixel becomes a 2x2 block
        var mask = new BinaryMask(2, 2, [true, false, false, true]);
        var big = mask.Resized(4, 4);
        Assert.Equal(
            new[] { true, true, false, false, true, true, false, false, false, false, true, true, false, false, true, true },
            big.Data);
        Assert.Equal(mask.Data, big.Resized(2, 2).Data);
        Assert.Equal(1.0, MaskMetrics.IoU(mask.Inverted(), new BinaryMask(2, 2, [false, true, true, false])));
    }
}
