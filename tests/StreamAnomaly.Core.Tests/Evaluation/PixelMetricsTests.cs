using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Tests.Evaluation;

public sealed class PixelMetricsTests
{
    private const int Side = 8;

    /// <summary>A mask of the rectangle [x, x + w) x [y, y + h) on an 8x8 frame.</summary>
    private static BinaryMask Box(int x, int y, int w, int h) =>
        new(Side, Side, Enumerable.Range(0, Side * Side).Select(p => p % Side >= x && p % Side < x + w && p / Side >= y && p / Side < y + h).ToArray());

    /// <summary>A map that is 1 inside <paramref name="mask"/> and 0 elsewhere.</summary>
    private static AnomalyMap MapOf(BinaryMask mask, float inside = 1, float outside = 0) =>
        new(mask.Width, mask.Height, mask.Data.Select(v => v ? inside : outside).ToArray());

    [Fact]
    public void A_map_that_marks_exactly_the_anomalies_scores_one_both_ways()
    {
        var metrics = new PixelMetrics(grid: Side);
        metrics.Add(MapOf(Box(1, 1, 2, 2)), Box(1, 1, 2, 2));
        metrics.Add(MapOf(Box(0, 0, 0, 0)), null);

        Assert.Equal(1.0, metrics.Auroc());
        Assert.Equal(1.0, metrics.Pro()!.Value, 12);
        Assert.Equal(2 * Side * Side, metrics.Pixels);
        Assert.Equal(1, metrics.Regions);
    }

    [Fact]
    public void A_map_that_marks_everything_but_the_anomalies_has_a_pixel_auroc_of_zero()
    {
        var metrics = new PixelMetrics(grid: Side);
        metrics.Add(MapOf(Box(1, 1, 2, 2), inside: 0, outside: 1), Box(1, 1, 2, 2));

        Assert.Equal(0.0, metrics.Auroc());
        Assert.Equal(0.0, metrics.Pro()!.Value, 12);
    }

    [Fact]
    public void Each_region_counts_alike_whatever_its_size_in_pro()
    {
        // two regions in one frame: a large one found first, a small one scored below every normal
        // pixel; the mean overlap is 0.5 from FPR 0 to 1, so PRO (up to FPR 0.3) is 0.5
        var (large, small) = (Box(0, 0, 4, 4), Box(6, 6, 1, 1));
        var truth = new BinaryMask(Side, Side, large.Data.Zip(small.Data, static (a, b) => a || b).ToArray());
        var map = new AnomalyMap(Side, Side, Enumerable.Range(0, Side * Side).Select(p => large.Data[p] ? 1f : small.Data[p] ? -1f : 0f).ToArray());
        var metrics = new PixelMetrics(grid: Side);
        metrics.Add(map, truth);

        Assert.Equal(2, metrics.Regions);
        Assert.Equal(0.5, metrics.Pro()!.Value, 12);
    }

    [Fact]
    public void Without_anomalous_pixels_there_are_no_pixel_figures()
    {
        var metrics = new PixelMetrics(grid: Side);
        metrics.Add(MapOf(Box(1, 1, 2, 2)), null);

        Assert.Null(metrics.Auroc());
        Assert.Null(metrics.Pro());
    }

    [Theory]
    [InlineData(4)]
    [InlineData(56)]
    public void Maps_of_any_size_are_brought_to_the_grid_keeping_where_the_anomaly_is(int size)
    {
        var scale = size / (double)Side;
        var mask = new BinaryMask(size, size, Enumerable.Range(0, size * size).Select(p => p % size < size / 2).ToArray());
        var metrics = new PixelMetrics(grid: Side);
        metrics.Add(MapOf(mask), new BinaryMask(Side, Side, Enumerable.Range(0, Side * Side).Select(p => p % Side < Side / 2).ToArray()));

        Assert.True(scale > 0);
        Assert.Equal(1.0, metrics.Auroc());
    }

    [Fact]
    public void Each_category_is_ranked_against_the_normal_frames_alone()
    {
        // category "found" marks its anomaly exactly; category "missed" marks everything but its anomaly
        var metrics = new PixelMetrics(grid: Side);
        metrics.Add(MapOf(Box(1, 1, 2, 2)), Box(1, 1, 2, 2), "found");
        metrics.Add(MapOf(Box(4, 4, 2, 2), inside: 0, outside: 0.5f), Box(4, 4, 2, 2), "missed");
        metrics.Add(MapOf(Box(0, 0, 0, 0)), null);

        var aurocs = metrics.CategoryAurocs();

        Assert.Equal(["found", "missed"], aurocs.Keys);
        Assert.Equal(1.0, aurocs["found"]);
        Assert.True(aurocs["missed"] < 0.5, $"{aurocs["missed"]}");
    }
}
