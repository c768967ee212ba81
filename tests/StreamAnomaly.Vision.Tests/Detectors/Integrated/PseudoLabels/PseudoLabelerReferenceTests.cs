using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.PseudoLabels;

/// <summary>
/// The default variant cleans each region in a padded crop and skips regions thinner than the
/// kernel; this checks it against the plain definition (full-size mask per region) on random maps.
/// </summary>
public sealed class PseudoLabelerReferenceTests
{
    private static BinaryMask? Reference(bool[] region, int width, int height, int kernelSize, int minArea)
    {
        var bytes = region.Select(static v => v ? (byte)255 : (byte)0).ToArray();
        using var source = Mat.FromPixelData(height, width, MatType.CV_8UC1, bytes);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(kernelSize, kernelSize));
        using var opened = new Mat();
        using var closed = new Mat();
        Cv2.MorphologyEx(source, opened, MorphTypes.Open, kernel);
        Cv2.MorphologyEx(opened, closed, MorphTypes.Close, kernel);
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(closed, labels, stats, centroids, PixelConnectivity.Connectivity8);
        var best = 0;
        for (var c = 1; c < count; c++)
        {
            if (best == 0 || stats.At<int>(c, 4) > stats.At<int>(best, 4))
            {
                best = c;
            }
        }

        if (best == 0 || stats.At<int>(best, 4) < minArea)
        {
            return null;
        }

        labels.GetArray(out int[] pieceLabels);
        return new BinaryMask(width, height, pieceLabels.Select(l => l == best).ToArray());
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(7, 4)]
    public void Default_variant_matches_full_size_per_region_cleaning_on_random_maps(int kernelSize, int seed)
    {
        const int W = 48, H = 36;
        var random = new Random(seed);
        for (var trial = 0; trial < 20; trial++)
        {
            var maps = new ResidualMaps(W, H);
            for (var r = 0; r < 6; r++)
            {
                int w = random.Next(1, 14), h = random.Next(1, 14);
                maps.Rect(random.Next(0, W - w + 1), random.Next(0, H - h + 1), w, h);
            }

            for (var n = 0; n < 60; n++)
            {
                maps.Pixel(random.Next(W), random.Next(H));
            }

            var residual = maps.Map();
            var options = new PseudoLabelOptions(0.5, kernelSize, MinAreaFraction: 0.005);
            var binary = residual.Values.Select(static v => v > 0.5f ? (byte)255 : (byte)0).ToArray();
            using var source = Mat.FromPixelData(H, W, MatType.CV_8UC1, binary);
            using var labels = new Mat();
            var count = Cv2.ConnectedComponents(source, labels, PixelConnectivity.Connectivity8);
            labels.GetArray(out int[] regionLabels);
            var expected = Enumerable.Range(1, count - 1)
                .Select(c => Reference(regionLabels.Select(l => l == c).ToArray(), W, H, kernelSize, options.MinAreaPixels(W, H)))
                .OfType<BinaryMask>()
                .ToList();

            var actual = PseudoLabeler.Label(residual, options).Instances;

            Assert.Equal(expected.Count, actual.Count);
            for (var k = 0; k < expected.Count; k++)
            {
                Assert.Equal(expected[k].Data, actual[k].Mask.Data);
                Assert.Equal(PseudoLabeler.TightBox(expected[k]), actual[k].Box);
            }
        }
    }
}
