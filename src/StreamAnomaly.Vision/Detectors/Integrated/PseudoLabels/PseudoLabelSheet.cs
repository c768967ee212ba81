using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;

namespace StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

/// <summary>
/// A contact sheet for eyeballing pseudo-labels: one tile per frame, left to right and top to
/// bottom, each instance's mask blended in a translucent colour of its own (alpha
/// <see cref="Alpha"/>, colours cycle through a 10-colour palette) and its box drawn 1 px wide in
/// the same colour. Tiles are drawn at the LABEL resolution (the residual's, i.e. the model input's):
/// the frame is resized to it with area interpolation, exactly as the model saw it, so mask pixels
/// are shown unscaled and the sheet stays small. The tile size is the mask size of the first
/// instance in the list (all masks must share it); when no item has an instance, it is the first
/// frame's size. The sheet is <c>min(columns, count) * tileWidth</c> wide and
/// <c>ceil(count / columns) * tileHeight</c> high, without gaps; unused cells are black.
/// </summary>
public static class PseudoLabelSheet
{
    /// <summary>Opacity of the mask overlay, in [0, 1].</summary>
    public const double Alpha = 0.45;

    /// <summary>Tableau-10 colours, BGR.</summary>
    private static readonly (byte B, byte G, byte R)[] Palette =
    [
        (180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148),
        (75, 86, 140), (194, 119, 227), (127, 127, 127), (34, 189, 188), (207, 190, 23),
    ];

    /// <summary>Writes the sheet as a PNG (the folder is created if missing).</summary>
    /// <exception cref="ArgumentException">No items, fewer than one column, or masks of different sizes.</exception>
    public static void Write(string pngPath, IReadOnlyList<(Frame Frame, SegmentationTargets Labels)> items, int columns = 4)
    {
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (items.Count == 0)
        {
            throw new ArgumentException("a contact sheet needs at least one frame", nameof(items));
        }

        var (tileWidth, tileHeight) = TileSize(items);
        var used = Math.Min(columns, items.Count);
        var rows = (items.Count + columns - 1) / columns;
        using var sheet = new Mat(rows * tileHeight, used * tileWidth, MatType.CV_8UC3, Scalar.All(0));
        for (var n = 0; n < items.Count; n++)
        {
            var (frame, labels) = items[n];
            ArgumentNullException.ThrowIfNull(frame, nameof(items));
            ArgumentNullException.ThrowIfNull(labels, nameof(items));
            var pixels = (byte[])FrameTensors.ResizeBgr(frame, tileWidth, tileHeight).Clone();
            for (var k = 0; k < labels.Instances.Count; k++)
            {
                Blend(pixels, labels.Instances[k].Mask, Palette[k % Palette.Length]);
            }

            using var tile = Mat.FromPixelData(tileHeight, tileWidth, MatType.CV_8UC3, pixels);
            for (var k = 0; k < labels.Instances.Count; k++)
            {
                var box = labels.Instances[k].Box;
                var (b, g, r) = Palette[k % Palette.Length];
                // Relative edges to the first and last pixel inside: x2 * width is one past the last column.
                var topLeft = new Point((int)Math.Round(box.X1 * tileWidth), (int)Math.Round(box.Y1 * tileHeight));
                var bottomRight = new Point((int)Math.Round(box.X2 * tileWidth) - 1, (int)Math.Round(box.Y2 * tileHeight) - 1);
                Cv2.Rectangle(tile, topLeft, bottomRight, new Scalar(b, g, r), 1);
            }

            using var cell = sheet[new Rect((n % columns) * tileWidth, (n / columns) * tileHeight, tileWidth, tileHeight)];
            tile.CopyTo(cell);
        }

        PseudoLabeler.WritePng(pngPath, sheet);
    }

    private static (int Width, int Height) TileSize(IReadOnlyList<(Frame Frame, SegmentationTargets Labels)> items)
    {
        (int Width, int Height)? size = null;
        foreach (var (_, labels) in items)
        {
            foreach (var instance in labels?.Instances ?? [])
            {
                size ??= (instance.Mask.Width, instance.Mask.Height);
                if (instance.Mask.Width != size.Value.Width || instance.Mask.Height != size.Value.Height)
                {
                    throw new ArgumentException(
                        $"all masks of a sheet must share one size: {size.Value.Width}x{size.Value.Height} and {instance.Mask.Width}x{instance.Mask.Height}", nameof(items));
                }
            }
        }

        var first = items[0].Frame ?? throw new ArgumentException("a sheet item has no frame", nameof(items));
        return size ?? (first.Width, first.Height);
    }

    private static void Blend(byte[] bgr, BinaryMask mask, (byte B, byte G, byte R) colour)
    {
        for (var i = 0; i < mask.Data.Length; i++)
        {
            if (!mask.Data[i])
            {
                continue;
            }

            bgr[3 * i] = Mix(bgr[3 * i], colour.B);
            bgr[(3 * i) + 1] = Mix(bgr[(3 * i) + 1], colour.G);
            bgr[(3 * i) + 2] = Mix(bgr[(3 * i) + 2], colour.R);
        }
    }

    private static byte Mix(byte under, byte over) => (byte)Math.Round((under * (1 - Alpha)) + (over * Alpha));
}
