using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;

namespace StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

/// <summary>
/// Turns an autoencoder residual into "normal object" instance labels for the segmentation head
/// (integrated-CNN paper, stage 2):
/// <list type="number">
/// <item>B = residual &gt; threshold (NaN residual values are background);</item>
/// <item>blob extraction: connected components of B, 8-connectivity;</item>
/// <item>per region, on that region's own mask: morphological opening, then closing, elliptical
/// kernel. Opening may split a region (a thin neck): the largest remaining 8-connected piece is
/// kept (the first in raster order on a tie) and the rest dropped, so one region never becomes
/// several instances. Regions below the minimum area after cleaning are dropped;</item>
/// <item>each surviving region becomes one <see cref="InstanceTarget"/> (class 1) with its cleaned
/// mask and the tight box of that mask in relative coordinates.</item>
/// </list>
/// The <see cref="PseudoLabelVariant"/> ablations skip step 3, or apply it to the whole of B before
/// step 2. Masks and boxes are at the residual's resolution. Instances are ordered by their
/// regions' first pixel in raster order (OpenCV's label order).
/// </summary>
public static class PseudoLabeler
{
    /// <summary>Class index of "normal object" in the segmentation head (0 is background).</summary>
    public const int NormalObjectClass = 1;

    /// <summary>The instance labels of one residual map; <see cref="SegmentationTargets.Instances"/> may be empty.</summary>
    public static SegmentationTargets Label(AnomalyMap residual, PseudoLabelOptions options)
    {
        ArgumentNullException.ThrowIfNull(residual);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        int width = residual.Width, height = residual.Height;
        var binary = new byte[residual.Values.Length];
        for (var i = 0; i < binary.Length; i++)
        {
            binary[i] = residual.Values[i] > options.Threshold ? (byte)255 : (byte)0;
        }

        var minArea = options.MinAreaPixels(width, height);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(options.KernelSize, options.KernelSize));
        var instances = options.Variant switch
        {
            PseudoLabelVariant.NoNoiseRemoval => WholeComponents(binary, width, height, minArea),
            PseudoLabelVariant.NoiseRemovalBeforeBlobs => WholeComponents(OpenClose(binary, width, height, kernel, options.KernelSize), width, height, minArea),
            _ => CleanedComponents(binary, width, height, minArea, kernel, options.KernelSize),
        };
        return new SegmentationTargets(instances);
    }

    /// <summary>
    /// Instances of a ground-truth object mask: each 8-connected component is one instance, as it is
    /// (the labels a person would draw, for training the segmentation head on ground truth).
    /// </summary>
    public static SegmentationTargets FromMask(BinaryMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var binary = mask.Data.Select(static v => v ? (byte)255 : (byte)0).ToArray();
        return new SegmentationTargets(WholeComponents(binary, mask.Width, mask.Height, minArea: 1));
    }

    /// <summary>
    /// The label image of one frame: per pixel the 1-based index of the instance covering it
    /// (<c>Instances[k]</c> is value k + 1), 0 for background; where instances overlap the later one
    /// wins. Row-major, <paramref name="width"/> x <paramref name="height"/>, which every mask must match.
    /// </summary>
    /// <exception cref="ArgumentException">More than 255 instances, or a mask of another size.</exception>
    public static byte[] ToLabelImage(SegmentationTargets labels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (labels.Instances.Count > byte.MaxValue)
        {
            throw new ArgumentException($"an 8-bit label image holds at most 255 instances, got {labels.Instances.Count}", nameof(labels));
        }

        var image = new byte[checked(width * height)];
        for (var k = 0; k < labels.Instances.Count; k++)
        {
            var mask = labels.Instances[k].Mask;
            if (mask.Width != width || mask.Height != height)
            {
                throw new ArgumentException($"instance {k} has a {mask.Width}x{mask.Height} mask, the label image is {width}x{height}", nameof(labels));
            }

            for (var i = 0; i < image.Length; i++)
            {
                if (mask.Data[i])
                {
                    image[i] = (byte)(k + 1);
                }
            }
        }

        return image;
    }

    /// <summary>Writes <see cref="ToLabelImage"/> as an 8-bit single-channel PNG (lossless; view it with contrast stretching).</summary>
    public static void WriteLabelPng(string pngPath, SegmentationTargets labels, int width, int height)
    {
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        var image = ToLabelImage(labels, width, height);
        using var mat = Mat.FromPixelData(height, width, MatType.CV_8UC1, image);
        WritePng(pngPath, mat);
    }

    /// <summary>
    /// Reads a label PNG written by <see cref="WriteLabelPng"/>: one instance (class 1) per distinct
    /// non-zero value, in increasing value order, with the tight box of its pixels.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a readable 8-bit single-channel image, or its header declares more than <see cref="ImageLimits.Default"/> (checked before decoding).</exception>
    public static SegmentationTargets ReadLabelPng(string pngPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        var bytes = File.ReadAllBytes(pngPath);
        if (!ImageHeader.TryRead(bytes, out var header, out var problem))
        {
            throw new InvalidDataException($"'{pngPath}' is not a label image: {problem}");
        }

        if (ImageLimits.Default.Check(header.Width, header.Height) is { } tooLarge)
        {
            throw new InvalidDataException($"'{pngPath}': {tooLarge}");
        }

        using var mat = Cv2.ImDecode(bytes, ImreadModes.Unchanged);
        if (mat.Empty() || mat.Type() != MatType.CV_8UC1)
        {
            throw new InvalidDataException($"'{pngPath}' is not an 8-bit single-channel label image ({(mat.Empty() ? "unreadable" : mat.Type().ToString())})");
        }

        int width = mat.Width, height = mat.Height;
        mat.GetArray(out byte[] image);
        var instances = new List<InstanceTarget>();
        for (var value = 1; value <= byte.MaxValue; value++)
        {
            var data = new bool[image.Length];
            var any = false;
            for (var i = 0; i < image.Length; i++)
            {
                if (image[i] == value)
                {
                    data[i] = true;
                    any = true;
                }
            }

            if (any)
            {
                var mask = new BinaryMask(width, height, data);
                instances.Add(new InstanceTarget(TightBox(mask), mask, NormalObjectClass));
            }
        }

        return new SegmentationTargets(instances);
    }

    /// <summary>
    /// The tight box of a mask's pixels in relative coordinates: a pixel column c spans
    /// [c / width, (c + 1) / width], so x1 = first column / width, x2 = (last column + 1) / width
    /// (likewise for rows). An empty mask is an <see cref="ArgumentException"/>.
    /// </summary>
    public static BoundingBox TightBox(BinaryMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
        for (var y = 0; y < mask.Height; y++)
        {
            for (var x = 0; x < mask.Width; x++)
            {
                if (mask.Data[(y * mask.Width) + x])
                {
                    minX = Math.Min(minX, x);
                    maxX = Math.Max(maxX, x);
                    minY = Math.Min(minY, y);
                    maxY = Math.Max(maxY, y);
                }
            }
        }

        if (maxX < 0)
        {
            throw new ArgumentException("an empty mask has no box", nameof(mask));
        }

        return RelativeBox(minX, minY, maxX - minX + 1, maxY - minY + 1, mask.Width, mask.Height);
    }

    internal static void WritePng(string pngPath, Mat mat)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        Cv2.ImEncode(".png", mat, out var png);
        File.WriteAllBytes(pngPath, png);
    }

    private static BoundingBox RelativeBox(int left, int top, int boxWidth, int boxHeight, int width, int height) =>
        new((float)left / width, (float)top / height, (float)(left + boxWidth) / width, (float)(top + boxHeight) / height);

    /// <summary>Connected components (8-connectivity): the label per pixel and OpenCV's stats rows (left, top, width, height, area), label 0 = background.</summary>
    private static (int Count, int[] Labels, int[] Stats) Components(byte[] binary, int width, int height)
    {
        using var source = Mat.FromPixelData(height, width, MatType.CV_8UC1, binary);
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(source, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        labels.GetArray(out int[] labelData);
        stats.GetArray(out int[] statData);
        return (count, labelData, statData);
    }

    private static byte[] OpenClose(byte[] binary, int width, int height, Mat kernel, int kernelSize)
    {
        if (kernelSize == 1)
        {
            return binary;
        }

        using var source = Mat.FromPixelData(height, width, MatType.CV_8UC1, binary);
        using var opened = new Mat();
        using var closed = new Mat();
        // Default border value: pixels outside the image never erode or dilate anything.
        Cv2.MorphologyEx(source, opened, MorphTypes.Open, kernel);
        Cv2.MorphologyEx(opened, closed, MorphTypes.Close, kernel);
        closed.GetArray(out byte[] result);
        return result;
    }

    /// <summary>Each component of the binary image with at least <paramref name="minArea"/> pixels, as it is.</summary>
    private static List<InstanceTarget> WholeComponents(byte[] binary, int width, int height, int minArea)
    {
        var (count, labels, stats) = Components(binary, width, height);
        var instances = new List<InstanceTarget>();
        for (var c = 1; c < count; c++)
        {
            if (stats[(5 * c) + 4] < minArea)
            {
                continue;
            }

            var data = new bool[width * height];
            int left = stats[5 * c], top = stats[(5 * c) + 1], boxWidth = stats[(5 * c) + 2], boxHeight = stats[(5 * c) + 3];
            for (var y = top; y < top + boxHeight; y++)
            {
                for (var x = left; x < left + boxWidth; x++)
                {
                    data[(y * width) + x] = labels[(y * width) + x] == c;
                }
            }

            instances.Add(new InstanceTarget(RelativeBox(left, top, boxWidth, boxHeight, width, height), new BinaryMask(width, height, data), NormalObjectClass));
        }

        return instances;
    }

    /// <summary>
    /// Blob extraction, then opening and closing per region. Each region is cleaned in a crop of
    /// its box padded by the kernel size (zeros beyond the region, the true image edge where the
    /// crop is clipped), which gives the same result as cleaning a full-size mask holding only that
    /// region: opening then closing never reaches more than 2 * (kernel radius) beyond the region.
    /// </summary>
    private static List<InstanceTarget> CleanedComponents(byte[] binary, int width, int height, int minArea, Mat kernel, int kernelSize)
    {
        var (count, labels, stats) = Components(binary, width, height);
        var instances = new List<InstanceTarget>();
        for (var c = 1; c < count; c++)
        {
            int left = stats[5 * c], top = stats[(5 * c) + 1], boxWidth = stats[(5 * c) + 2], boxHeight = stats[(5 * c) + 3];
            // The elliptical kernel holds a full middle row and column, so erosion empties any region
            // narrower or shorter than the kernel, unless it touches the image edge in that direction
            // (outside the image never erodes): salt noise is skipped here without any image work.
            var tooNarrow = boxWidth < kernelSize && left > 0 && left + boxWidth < width;
            var tooShort = boxHeight < kernelSize && top > 0 && top + boxHeight < height;
            if (tooNarrow || tooShort)
            {
                continue;
            }

            var pad = kernelSize == 1 ? 0 : kernelSize;
            int x0 = Math.Max(0, left - pad), y0 = Math.Max(0, top - pad);
            int x1 = Math.Min(width, left + boxWidth + pad), y1 = Math.Min(height, top + boxHeight + pad);
            int cropWidth = x1 - x0, cropHeight = y1 - y0;
            var crop = new byte[cropWidth * cropHeight];
            for (var y = top; y < top + boxHeight; y++)
            {
                for (var x = left; x < left + boxWidth; x++)
                {
                    if (labels[(y * width) + x] == c)
                    {
                        crop[((y - y0) * cropWidth) + (x - x0)] = 255;
                    }
                }
            }

            var cleaned = OpenClose(crop, cropWidth, cropHeight, kernel, kernelSize);
            var (pieces, pieceLabels, pieceStats) = Components(cleaned, cropWidth, cropHeight);
            var best = 0;
            for (var p = 1; p < pieces; p++)
            {
                if (best == 0 || pieceStats[(5 * p) + 4] > pieceStats[(5 * best) + 4])
                {
                    best = p;
                }
            }

            if (best == 0 || pieceStats[(5 * best) + 4] < minArea)
            {
                continue;
            }

            var data = new bool[width * height];
            for (var y = 0; y < cropHeight; y++)
            {
                for (var x = 0; x < cropWidth; x++)
                {
                    if (pieceLabels[(y * cropWidth) + x] == best)
                    {
                        data[((y + y0) * width) + x + x0] = true;
                    }
                }
            }

            var box = RelativeBox(
                x0 + pieceStats[5 * best], y0 + pieceStats[(5 * best) + 1], pieceStats[(5 * best) + 2], pieceStats[(5 * best) + 3], width, height);
            instances.Add(new InstanceTarget(box, new BinaryMask(width, height, data), NormalObjectClass));
        }

        return instances;
    }
}
