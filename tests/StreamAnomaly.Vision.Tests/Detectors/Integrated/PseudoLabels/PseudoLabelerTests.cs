using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.PseudoLabels;

public sealed class PseudoLabelerTests
{
    private const int W = 64;
    private const int H = 48;

    private static PseudoLabelOptions Options(PseudoLabelVariant variant = PseudoLabelVariant.NoiseRemovalAfterBlobs, double minAreaFraction = 0.001) =>
        new(Threshold: 0.5, MinAreaFraction: minAreaFraction, Variant: variant);

    private static void AssertMask(BinaryMask expected, BinaryMask actual)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var wrong = Enumerable.Range(0, expected.Data.Length).Where(i => expected.Data[i] != actual.Data[i]).Select(i => (i % expected.Width, i / expected.Width)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} pixels differ, first (x, y) = {(wrong.Count > 0 ? wrong[0] : default)}");
    }

    private static void AssertBox(int left, int top, int width, int height, BoundingBox box)
    {
        Assert.Equal((float)left / W, box.X1, 6);
        Assert.Equal((float)top / H, box.Y1, 6);
        Assert.Equal((float)(left + width) / W, box.X2, 6);
        Assert.Equal((float)(top + height) / H, box.Y2, 6);
    }

    [Theory]
    [InlineData(PseudoLabelVariant.NoNoiseRemoval, false)]
    [InlineData(PseudoLabelVariant.NoiseRemovalBeforeBlobs, true)]
    [InlineData(PseudoLabelVariant.NoiseRemovalAfterBlobs, true)]
    public void Two_separated_squares_become_two_instances_with_exact_masks_and_boxes(PseudoLabelVariant variant, bool cleaned)
    {
        var residual = new ResidualMaps(W, H).Rect(5, 6, 10, 10, 2f).Rect(30, 20, 12, 12, 0.9f).Map();

        var labels = PseudoLabeler.Label(residual, Options(variant));

        Assert.Equal(2, labels.Instances.Count);
        // The 3x3 ellipse is a cross: opening trims a square's four corner pixels, closing does not restore them.
        AssertMask(ResidualMaps.RectMask(W, H, 5, 6, 10, 10, cutCorners: cleaned), labels.Instances[0].Mask);
        AssertMask(ResidualMaps.RectMask(W, H, 30, 20, 12, 12, cutCorners: cleaned), labels.Instances[1].Mask);
        AssertBox(5, 6, 10, 10, labels.Instances[0].Box);
        AssertBox(30, 20, 12, 12, labels.Instances[1].Box);
        Assert.All(labels.Instances, i => Assert.Equal(PseudoLabeler.NormalObjectClass, i.ClassIndex));
    }

    [Fact]
    public void Kernel_size_one_makes_the_default_variant_keep_squares_whole()
    {
        var residual = new ResidualMaps(W, H).Rect(5, 6, 10, 10).Map();

        var labels = PseudoLabeler.Label(residual, Options() with { KernelSize = 1 });

        AssertMask(ResidualMaps.RectMask(W, H, 5, 6, 10, 10), Assert.Single(labels.Instances).Mask);
    }

    [Fact]
    public void Threshold_is_strict()
    {
        var residual = new ResidualMaps(W, H).Rect(5, 6, 10, 10, 0.5f).Map();

        Assert.Empty(PseudoLabeler.Label(residual, Options()).Instances);
        Assert.Single(PseudoLabeler.Label(residual, Options() with { Threshold = 0.49 }).Instances);
    }

    [Fact]
    public void Default_variant_removes_salt_noise_isolated_and_attached()
    {
        var maps = new ResidualMaps(W, H).Rect(10, 10, 12, 12);
        // Isolated salt pixels and a 2x2 speck (all gone with MinAreaFraction = 0, so opening does it) ...
        foreach (var (x, y) in new[] { (2, 2), (40, 5), (60, 40), (35, 30), (50, 12), (3, 44) })
        {
            maps.Pixel(x, y);
        }

        maps.Rect(45, 30, 2, 2);
        // ... and a 2-px diagonal spur off the square's corner (same blob, so only the per-region cleaning can remove it).
        maps.Pixel(22, 22).Pixel(23, 23);
        var residual = maps.Map();

        var cleaned = PseudoLabeler.Label(residual, Options(minAreaFraction: 0));
        var raw = PseudoLabeler.Label(residual, Options(PseudoLabelVariant.NoNoiseRemoval, minAreaFraction: 0));

        var instance = Assert.Single(cleaned.Instances);
        AssertMask(ResidualMaps.RectMask(W, H, 10, 10, 12, 12, cutCorners: true), instance.Mask);
        AssertBox(10, 10, 12, 12, instance.Box);
        Assert.Equal(8, raw.Instances.Count);
        Assert.Equal(144 + 2, raw.Instances.Max(static i => i.Mask.Area));
    }

    [Fact]
    public void Blob_flush_with_the_image_corner_keeps_its_edge_pixels()
    {
        // Outside the image never erodes: the square behaves as if it went on beyond the edges, so
        // opening trims only its one interior corner (7, 7).
        var residual = new ResidualMaps(W, H).Rect(0, 0, 8, 8).Map();

        var instance = Assert.Single(PseudoLabeler.Label(residual, Options()).Instances);

        var expected = ResidualMaps.RectMask(W, H, 0, 0, 8, 8);
        expected.Data[(7 * W) + 7] = false;
        AssertMask(expected, instance.Mask);
        AssertBox(0, 0, 8, 8, instance.Box);
    }

    [Fact]
    public void Strip_two_pixels_thick_survives_cleaning_only_along_the_image_edge()
    {
        // Thinner than the 3x3 kernel: erased inside the image, kept where the image edge supports it.
        var residual = new ResidualMaps(W, H).Rect(10, 0, 20, 2).Rect(10, 20, 20, 2).Map();

        var instance = Assert.Single(PseudoLabeler.Label(residual, Options()).Instances);

        AssertBox(10, 0, 20, 2, instance.Box);
    }

    [Fact]
    public void Thin_bridge_splits_the_object_only_when_noise_is_removed_before_blob_extraction()
    {
        // One object: a 12x12 body and a 10x10 part joined by a 1-px-thick, 6-px-long neck.
        var residual = new ResidualMaps(W, H).Rect(4, 10, 12, 12).Rect(16, 15, 6, 1).Rect(22, 11, 10, 10).Map();
        // Opening cuts the neck but leaves a 1-px spur on each side: the edge pixel next to the neck
        // survives erosion (the neck supports it), so dilation grows it back by one pixel.
        var body = ResidualMaps.RectMask(W, H, 4, 10, 12, 12, cutCorners: true);
        body.Data[(15 * W) + 16] = true;
        var part = ResidualMaps.RectMask(W, H, 22, 11, 10, 10, cutCorners: true);
        part.Data[(15 * W) + 21] = true;

        var before = PseudoLabeler.Label(residual, Options(PseudoLabelVariant.NoiseRemovalBeforeBlobs));
        var after = PseudoLabeler.Label(residual, Options(PseudoLabelVariant.NoiseRemovalAfterBlobs));
        var none = PseudoLabeler.Label(residual, Options(PseudoLabelVariant.NoNoiseRemoval));

        // Before: opening cuts the neck first, so blob extraction sees two objects -> two instances.
        Assert.Equal(2, before.Instances.Count);
        AssertMask(body, before.Instances[0].Mask);
        AssertMask(part, before.Instances[1].Mask);
        // After: blob extraction sees one region; opening cuts it, and the region stays ONE instance,
        // its largest remaining piece.
        var single = Assert.Single(after.Instances);
        AssertMask(body, single.Mask);
        AssertBox(4, 10, 13, 12, single.Box);
        // None: one instance with neck and all.
        Assert.Equal(144 + 6 + 100, Assert.Single(none.Instances).Mask.Area);
    }

    [Fact]
    public void One_pixel_gap_merges_two_objects_only_when_noise_is_removed_before_blob_extraction()
    {
        // Two objects 8-disconnected by a single empty column (x = 16): closing the whole mask fills it.
        var residual = new ResidualMaps(W, H).Rect(6, 10, 10, 10).Rect(17, 10, 10, 10).Map();

        var before = PseudoLabeler.Label(residual, Options(PseudoLabelVariant.NoiseRemovalBeforeBlobs));
        var after = PseudoLabeler.Label(residual, Options(PseudoLabelVariant.NoiseRemovalAfterBlobs));

        var merged = Assert.Single(before.Instances);
        AssertBox(6, 10, 21, 10, merged.Box);
        Assert.True(merged.Mask.Data[(15 * W) + 16], "the gap column is filled");
        Assert.Equal(2, after.Instances.Count);
        AssertMask(ResidualMaps.RectMask(W, H, 6, 10, 10, 10, cutCorners: true), after.Instances[0].Mask);
        AssertMask(ResidualMaps.RectMask(W, H, 17, 10, 10, 10, cutCorners: true), after.Instances[1].Mask);
    }

    [Theory]
    [InlineData(PseudoLabelVariant.NoiseRemovalAfterBlobs)]
    [InlineData(PseudoLabelVariant.NoiseRemovalBeforeBlobs)]
    [InlineData(PseudoLabelVariant.NoNoiseRemoval)]
    public void Minimum_area_filter_keeps_regions_at_the_limit_and_drops_smaller_ones(PseudoLabelVariant variant)
    {
        // 100x100 image; squares of 12x12 and 5x5 (140 and 21 pixels after cleaning, 144 and 25 raw).
        var residual = new ResidualMaps(100, 100).Rect(10, 10, 12, 12).Rect(60, 60, 5, 5).Map();
        var big = variant == PseudoLabelVariant.NoNoiseRemoval ? 144 : 140;
        var small = variant == PseudoLabelVariant.NoNoiseRemoval ? 25 : 21;
        PseudoLabelOptions WithMinArea(double fraction) => Options(variant, fraction);

        Assert.Equal(2, PseudoLabeler.Label(residual, WithMinArea(0.001)).Instances.Count);
        Assert.Equal(2, PseudoLabeler.Label(residual, WithMinArea(small / 10000.0)).Instances.Count);
        Assert.Equal(big, Assert.Single(PseudoLabeler.Label(residual, WithMinArea((small + 1) / 10000.0)).Instances).Mask.Area);
        Assert.Single(PseudoLabeler.Label(residual, WithMinArea(big / 10000.0)).Instances);
        Assert.Empty(PseudoLabeler.Label(residual, WithMinArea((big + 1) / 10000.0)).Instances);
    }

    [Theory]
    [InlineData(PseudoLabelVariant.NoiseRemovalAfterBlobs)]
    [InlineData(PseudoLabelVariant.NoiseRemovalBeforeBlobs)]
    [InlineData(PseudoLabelVariant.NoNoiseRemoval)]
    public void Empty_residual_gives_no_instances(PseudoLabelVariant variant)
    {
        var labels = PseudoLabeler.Label(new AnomalyMap(W, H, new float[W * H]), new PseudoLabelOptions(0, Variant: variant));

        Assert.Empty(labels.Instances);
    }

    [Theory]
    [InlineData(double.NaN, 3, 0.001)]
    [InlineData(0.5, 2, 0.001)]
    [InlineData(0.5, 0, 0.001)]
    [InlineData(0.5, 3, -0.1)]
    [InlineData(0.5, 3, 1.5)]
    public void Invalid_options_are_rejected(double threshold, int kernel, double minArea)
    {
        var residual = new AnomalyMap(W, H, new float[W * H]);

        Assert.Throws<ArgumentException>(() => PseudoLabeler.Label(residual, new PseudoLabelOptions(threshold, kernel, minArea)));
    }

    [Fact]
    public void Threshold_is_the_pooled_percentile_of_normal_residual_pixels()
    {
        // Ten pooled values 0..9 in two maps of different sizes: rank = p / 100 * 9.
        var maps = new[]
        {
            new AnomalyMap(2, 2, [3f, 0f, 2f, 1f]),
            new AnomalyMap(3, 2, [9f, 4f, 8f, 5f, 7f, 6f]),
        };

        Assert.Equal(4.5, PseudoLabelThreshold.FromNormalResiduals(maps, 50), 6);
        Assert.Equal(8.1, PseudoLabelThreshold.FromNormalResiduals(maps, 90), 6);
        Assert.Equal(8.991, PseudoLabelThreshold.FromNormalResiduals(maps), 6);
        Assert.Equal(9, PseudoLabelThreshold.FromNormalResiduals(maps, 100), 6);
        Assert.Equal(0, PseudoLabelThreshold.FromNormalResiduals(maps, 0), 6);
        Assert.Equal(
            StreamAnomaly.Core.Scoring.Percentiles.OfSorted([.. Enumerable.Range(0, 10).Select(static v => (double)v)], 99.9),
            PseudoLabelThreshold.FromNormalResiduals(maps),
            9);
    }

    [Fact]
    public void Threshold_rejects_no_maps_non_finite_values_and_bad_percentiles()
    {
        Assert.Throws<ArgumentException>(() => PseudoLabelThreshold.FromNormalResiduals([]));
        Assert.Throws<ArgumentException>(() => PseudoLabelThreshold.FromNormalResiduals([new AnomalyMap(1, 1, [float.NaN])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PseudoLabelThreshold.FromNormalResiduals([new AnomalyMap(1, 1, [0f])], 100.5));
    }

    [Fact]
    public void Threshold_from_normal_maps_leaves_only_noise_that_the_default_variant_removes()
    {
        // Normal frames: small residual everywhere plus one hot pixel each; a 99th-percentile threshold
        // sits below the hot pixels, and on a frame with an object only the object survives.
        var normal = Enumerable.Range(0, 5).Select(n => new ResidualMaps(W, H).Rect(0, 0, W, H, 0.01f + (0.001f * n)).Pixel(7 * n, 3 * n, 0.2f).Map()).ToList();
        var threshold = PseudoLabelThreshold.FromNormalResiduals(normal, 99);
        Assert.InRange(threshold, 0.0139, 0.0141);
        var frame = new ResidualMaps(W, H).Rect(0, 0, W, H, 0.012f).Pixel(50, 40, 0.3f).Pixel(3, 30, 0.3f).Rect(20, 20, 9, 9, 0.3f).Map();

        var labels = PseudoLabeler.Label(frame, new PseudoLabelOptions(threshold));

        AssertBox(20, 20, 9, 9, Assert.Single(labels.Instances).Box);
    }
}
