using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Streaming;
using static StreamAnomaly.Core.Tests.Streaming.StreamingTestData;

namespace StreamAnomaly.Core.Tests.Streaming;

public sealed class FrameFusionTests
{
    [Fact]
    public void One_detector_scores_exactly_as_its_calibration_says()
    {
        var fused = FrameFusion.Fuse([Partial("cam", 1, 0.73)], complete: true);
        Assert.Equal(0.73, fused.Score, 9);
        Assert.True(fused.Complete);
    }

    [Fact]
    public void Residual_inside_another_detectors_normal_region_is_removed()
    {
        // Detector a: raw 0.9-level score, residual all in the left half; detector b ignores the left half.
        var left = new ResidualGrid(2, 1, 5, [255, 0]);
        var a = Partial("cam", 1, 0.9, detector: "a", detectors: 2, residual: left);
        var b = Partial("cam", 1, 0.0, detector: "b", detectors: 2, ignored: new MaskGrid(2, 1, [255, 0]));
        var fused = FrameFusion.Fuse([a, b], complete: true);
        Assert.Equal(Calibration.Normalize(0), fused.Score, 9);
        Assert.Equal(["a", "b"], fused.Detectors);
    }

    [Fact]
    public void Half_the_residual_masked_halves_the_raw_score()
    {
        var even = new ResidualGrid(2, 1, 5, [255, 255]);
        var a = Partial("cam", 1, 0.9, detector: "a", detectors: 2, residual: even);
        var b = Partial("cam", 1, 0.0, detector: "b", detectors: 2, ignored: new MaskGrid(2, 1, [255, 0]));
        Assert.Equal(Calibration.Normalize(Raw(0.9) / 2), FrameFusion.Fuse([a, b], complete: true).Score, 9);
    }

    [Fact]
    public void A_peak_score_keeps_the_highest_cell_outside_the_mask()
    {
        // A PatchCore-like map: a floor of 100 everywhere, the hand's cell at 255, a foreign object's at 200.
        var map = new ResidualGrid(4, 1, 5, [100, 255, 200, 100]);
        var a = Partial("cam", 1, 0.9, detector: "a", detectors: 2, residual: map) with { Reduction = ScoreReduction.Peak };
        var hand = Partial("cam", 1, 0.0, detector: "b", detectors: 2, ignored: new MaskGrid(4, 1, [0, 255, 0, 0]));

        Assert.Equal(Calibration.Normalize(Raw(0.9) * 200 / 255), FrameFusion.Fuse([a, hand], complete: true).Score, 9);
    }

    [Fact]
    public void A_masked_peak_falls_to_the_floor_where_a_masked_sum_would_hardly_move()
    {
        var map = new ResidualGrid(4, 1, 5, [100, 255, 100, 100]);
        var hand = Partial("cam", 1, 0.0, detector: "b", detectors: 2, ignored: new MaskGrid(4, 1, [0, 255, 0, 0]));
        var peak = Partial("cam", 1, 0.9, detector: "a", detectors: 2, residual: map) with { Reduction = ScoreReduction.Peak };
        var sum = peak with { Reduction = ScoreReduction.Sum };

        Assert.Equal(Calibration.Normalize(Raw(0.9) * 100 / 255), FrameFusion.Fuse([peak, hand], complete: true).Score, 9);
        Assert.Equal(Calibration.Normalize(Raw(0.9) * 300 / 555), FrameFusion.Fuse([sum, hand], complete: true).Score, 9);
    }

    [Fact]
    public void A_detectors_own_mask_does_not_lower_its_own_score()
    {
        var a = Partial("cam", 1, 0.8, detector: "a", detectors: 1, ignored: new MaskGrid(4, 4, Enumerable.Repeat((byte)255, 16).ToArray()));
        Assert.Equal(0.8, FrameFusion.Fuse([a], complete: true).Score, 9);
    }

    [Fact]
    public void The_frame_score_is_the_highest_detector_score()
    {
        var fused = FrameFusion.Fuse([Partial("cam", 1, 0.2, detector: "a", detectors: 2), Partial("cam", 1, 0.7, detector: "b", detectors: 2)], complete: false);
        Assert.Equal(0.7, fused.Score, 9);
        Assert.False(fused.Complete);
    }

    [Fact]
    public void The_fused_frame_carries_the_winning_residual_and_the_union_of_the_masks()
    {
        var low = new ResidualGrid(2, 1, 1, [255, 0]);
        var high = new ResidualGrid(2, 1, 1, [0, 255]);
        var fused = FrameFusion.Fuse(
            [Partial("cam", 1, 0.2, detector: "a", detectors: 2, residual: low, ignored: new MaskGrid(2, 1, [10, 0])),
             Partial("cam", 1, 0.7, detector: "b", detectors: 2, residual: high, ignored: new MaskGrid(2, 1, [0, 0]))],
            complete: true);
        Assert.Same(high, fused.Residual);
        Assert.Equal(new byte[] { 10, 0 }, fused.Ignored!.Coverage);
        Assert.Null(FrameFusion.Fuse([Partial("cam", 2, 0.3)], complete: true).Ignored);
    }
}
