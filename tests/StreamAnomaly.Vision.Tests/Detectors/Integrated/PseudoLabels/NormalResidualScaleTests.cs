using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using Xunit;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.PseudoLabels;

public sealed class NormalResidualScaleTests
{
    private const int W = 40;
    private const int H = 30;

    [Fact]
    public void Scale_is_each_pixels_percentile_floored_at_the_pooled_percentile()
    {
        // 101 maps of 2 x 1: pixel 0 takes 0..100 (its 99th percentile is 99), pixel 1 is always 0.
        // Pooled 202 values: half zeros, so the pooled 90th percentile lies in 0..100 at rank 180.9.
        var maps = Enumerable.Range(0, 101).Select(v => new AnomalyMap(2, 1, [v, 0f])).ToArray();
        var pooled = maps.SelectMany(m => m.Values).Select(v => (double)v).Order().ToArray();
        var floor = StreamAnomaly.Core.Scoring.Percentiles.OfSorted(pooled, 90);

        var scale = NormalResidualScale.FromNormalResiduals(maps, pixelPercentile: 99, floorPercentile: 90);

        Assert.Equal(99f, scale.Values[0], 4);
        Assert.Equal((float)floor, scale.Values[1], 4);
        Assert.InRange(floor, 79.0, 81.0);
    }

    [Fact]
    public void All_zero_residuals_give_a_positive_scale()
    {
        var scale = NormalResidualScale.FromNormalResiduals([new AnomalyMap(3, 2, new float[6])]);

        Assert.All(scale.Values, v => Assert.True(v > 0));
    }

    [Fact]
    public void An_object_as_faint_as_the_moving_machine_is_labelled_and_the_machine_is_not()
    {
        // Normal frames: a machine part (a band along the left edge, 7.5 % of the frame) is never reconstructed well (residual 0.2-0.3),
        // the rest of the frame almost perfectly (0.001). The frame to label has the machine as usual
        // and an object of residual 0.2 on the static part: one global threshold above the machine
        // misses the object, one below it labels the machine; divided by the scale only the object is left.
        var normal = Enumerable.Range(0, 20)
            .Select(n => new ResidualMaps(W, H).Rect(0, 0, W, H, 0.001f).Rect(0, 0, 3, H, 0.2f + (0.005f * n)).Map())
            .ToArray();
        var frame = new ResidualMaps(W, H).Rect(0, 0, W, H, 0.001f).Rect(0, 0, 3, H, 0.25f).Rect(20, 10, 8, 8, 0.2f).Map();
        var scale = NormalResidualScale.FromNormalResiduals(normal);
        var threshold = PseudoLabelThreshold.FromNormalResiduals(normal.Select(m => NormalResidualScale.Normalise(m, scale)));
        var globalThreshold = PseudoLabelThreshold.FromNormalResiduals(normal);

        var scaled = PseudoLabeler.Label(NormalResidualScale.Normalise(frame, scale), new PseudoLabelOptions(threshold));
        var global = PseudoLabeler.Label(frame, new PseudoLabelOptions(globalThreshold));

        var box = Assert.Single(scaled.Instances).Box;
        Assert.Equal(20f / W, box.X1, 6);
        Assert.Equal(10f / H, box.Y1, 6);
        Assert.Equal(28f / W, box.X2, 6);
        Assert.Equal(18f / H, box.Y2, 6);
        Assert.DoesNotContain(global.Instances, i => i.Box.X1 >= 0.5);
    }

    [Fact]
    public void Normalise_divides_pixel_by_pixel()
    {
        var normalised = NormalResidualScale.Normalise(new AnomalyMap(2, 1, [1f, 6f]), new AnomalyMap(2, 1, [0.5f, 3f]));

        Assert.Equal([2f, 2f], normalised.Values);
    }

    [Fact]
    public void Maps_of_different_sizes_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            NormalResidualScale.FromNormalResiduals([new AnomalyMap(2, 1, [0f, 1f]), new AnomalyMap(1, 2, [0f, 1f])]));

        Assert.Contains("2x1 and 1x2", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => NormalResidualScale.Normalise(new AnomalyMap(2, 1, [0f, 1f]), new AnomalyMap(1, 2, [1f, 1f])));
        Assert.Throws<ArgumentException>(() => NormalResidualScale.FromNormalResiduals([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalResidualScale.FromNormalResiduals([new AnomalyMap(1, 1, [0f])], pixelPercentile: 101));
    }
}
