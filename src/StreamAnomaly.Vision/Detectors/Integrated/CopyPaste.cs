using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>Settings of <see cref="CopyPaste"/>.</summary>
/// <param name="Probability">Chance that a frame receives a pasted piece; in [0, 1].</param>
/// <param name="MinWindow">Smallest side of the cut-out window, as a fraction of the frame's shorter side.</param>
/// <param name="MaxWindow">Largest side of the cut-out window, as a fraction of the frame's shorter side.</param>
/// <param name="MinPixels">Pieces (and occluded instances) smaller than this many pixels are dropped.</param>
/// <param name="Rotate">Turn each piece by a random angle (nearest pixel) before pasting it.</param>
public sealed record CopyPasteOptions(double Probability = 0.5, double MinWindow = 0.15, double MaxWindow = 0.35, int MinPixels = 16, bool Rotate = true);

/// <summary>
/// Copy-paste augmentation for the segmentation stage (after Ghiasi et al., "Simple Copy-Paste is a
/// Strong Data Augmentation Method for Instance Segmentation", 2021): a piece of a labelled normal
/// object (its mask inside a random square window around one of its pixels) is cut from a frame of
/// the batch, turned by a random angle and pasted at a random place of another as a new instance;
/// instances it covers lose those pixels. Training footage shows hands with the whole arm reaching in
/// from an edge at a few angles; pieces teach the head that a hand (or part of an arm) anywhere in
/// the frame, at any angle, is the same normal object.
/// Works on pseudo-labels as on ground truth; only the batch in hand is used.
/// </summary>
public static class CopyPaste
{
    /// <summary>
    /// A new batch (float [N, C, H, W], same device) with pieces pasted, and its instances.
    /// <paramref name="images"/> is left unchanged; pieces are cut from it, never from a pasted frame.
    /// </summary>
    public static (Tensor Images, SegmentationTargets[] Targets) Apply(
        Tensor images, IReadOnlyList<SegmentationTargets> targets, Random random, CopyPasteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(random);
        options ??= new CopyPasteOptions();
        var count = (int)images.shape[0];
        if (targets.Count != count)
        {
            throw new ArgumentException($"{targets.Count} targets for {count} images", nameof(targets));
        }

        var (height, width) = ((int)images.shape[2], (int)images.shape[3]);
        var result = targets.ToArray();
        var pasted = images.clone();
        var donors = Enumerable.Range(0, count).Where(j => targets[j].Instances.Count > 0).ToArray();
        for (var i = 0; i < count && donors.Length > 0; i++)
        {
            if (random.NextDouble() >= options.Probability)
            {
                continue;
            }

            var donor = donors[random.Next(donors.Length)];
            var source = targets[donor].Instances[random.Next(targets[donor].Instances.Count)].Mask;
            var piece = Cut(source, random, options);
            if (piece is not null && options.Rotate)
            {
                piece = Rotated(piece, random.NextDouble() * 2 * Math.PI, options.MinPixels);
            }

            if (piece is null || piece.Width > width || piece.Height > height)
            {
                continue;
            }

            var (x, y) = (random.Next(width - piece.Width + 1), random.Next(height - piece.Height + 1));
            Paste(pasted, i, images, donor, piece, x, y);
            result[i] = Occlude(result[i], piece, x, y, width, height, options.MinPixels);
        }

        return (pasted, result);
    }

    /// <summary>A piece of <paramref name="mask"/>: its pixels inside a random window, as a tight rectangle of the source.</summary>
    private static Piece? Cut(BinaryMask mask, Random random, CopyPasteOptions options)
    {
        var pixels = Enumerable.Range(0, mask.Data.Length).Where(p => mask.Data[p]).ToArray();
        if (pixels.Length == 0)
        {
            return null;
        }

        var shorter = Math.Min(mask.Width, mask.Height);
        var side = Math.Max(2, (int)Math.Round(shorter * (options.MinWindow + (random.NextDouble() * (options.MaxWindow - options.MinWindow)))));
        var centre = pixels[random.Next(pixels.Length)];
        var (left, top) = (Math.Max(0, (centre % mask.Width) - (side / 2)), Math.Max(0, (centre / mask.Width) - (side / 2)));
        var (right, bottom) = (Math.Min(mask.Width, left + side), Math.Min(mask.Height, top + side));
        int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1, area = 0;
        for (var y = top; y < bottom; y++)
        {
            for (var x = left; x < right; x++)
            {
                if (mask.Data[(y * mask.Width) + x])
                {
                    (minX, maxX, minY, maxY) = (Math.Min(minX, x), Math.Max(maxX, x), Math.Min(minY, y), Math.Max(maxY, y));
                    area++;
                }
            }
        }

        if (area < options.MinPixels)
        {
            return null;
        }

        var (w, h) = (maxX - minX + 1, maxY - minY + 1);
        var source = new int[w * h];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var p = ((minY + y) * mask.Width) + minX + x;
                source[(y * w) + x] = mask.Data[p] ? p : Piece.Outside;
            }
        }

        return new Piece(w, h, source);
    }

    /// <summary>
    /// <paramref name="piece"/> turned by <paramref name="angle"/> radians about its centre, each
    /// pixel taking the source pixel nearest its inverse-rotated centre, trimmed to its tight
    /// rectangle; null when fewer than <paramref name="minPixels"/> pixels are left.
    /// </summary>
    internal static Piece? Rotated(Piece piece, double angle, int minPixels)
    {
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        var w = (int)Math.Ceiling((Math.Abs(piece.Width * cos) + Math.Abs(piece.Height * sin)) - 1e-9);
        var h = (int)Math.Ceiling((Math.Abs(piece.Width * sin) + Math.Abs(piece.Height * cos)) - 1e-9);
        var (cx, cy, ox, oy) = ((piece.Width - 1) / 2.0, (piece.Height - 1) / 2.0, (w - 1) / 2.0, (h - 1) / 2.0);
        var turned = new int[w * h];
        int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1, area = 0;
        for (var v = 0; v < h; v++)
        {
            for (var u = 0; u < w; u++)
            {
                var (dx, dy) = (u - ox, v - oy);
                var sx = (int)Math.Round((cos * dx) + (sin * dy) + cx);
                var sy = (int)Math.Round((-sin * dx) + (cos * dy) + cy);
                var p = sx >= 0 && sx < piece.Width && sy >= 0 && sy < piece.Height ? piece.Source[(sy * piece.Width) + sx] : Piece.Outside;
                turned[(v * w) + u] = p;
                if (p != Piece.Outside)
                {
                    (minX, maxX, minY, maxY) = (Math.Min(minX, u), Math.Max(maxX, u), Math.Min(minY, v), Math.Max(maxY, v));
                    area++;
                }
            }
        }

        if (area < minPixels)
        {
            return null;
        }

        var (tw, th) = (maxX - minX + 1, maxY - minY + 1);
        var trimmed = new int[tw * th];
        for (var v = 0; v < th; v++)
        {
            Array.Copy(turned, ((minY + v) * w) + minX, trimmed, v * tw, tw);
        }

        return new Piece(tw, th, trimmed);
    }

    private static void Paste(Tensor pasted, int target, Tensor images, int donor, Piece piece, int x, int y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (channels, height, width) = (images.shape[1], images.shape[2], images.shape[3]);
        var cells = Enumerable.Range(0, piece.Source.Length).Where(k => piece.Source[k] != Piece.Outside).ToArray();
        var from = tensor(cells.Select(k => (long)piece.Source[k]).ToArray()).to(images.device);
        var to = tensor(cells.Select(k => ((long)(y + (k / piece.Width)) * width) + x + (k % piece.Width)).ToArray()).to(images.device);
        var values = images[TensorIndex.Single(donor)].reshape(channels, height * width).index_select(1, from);
        pasted[TensorIndex.Single(target)].view(channels, height * width).index_copy_(1, to, values);
    }

    /// <summary>The frame's instances minus the pasted pixels (too small ones dropped), plus the piece as a new instance.</summary>
    private static SegmentationTargets Occlude(SegmentationTargets targets, Piece piece, int x, int y, int width, int height, int minPixels)
    {
        var covered = new bool[width * height];
        for (var row = 0; row < piece.Height; row++)
        {
            for (var column = 0; column < piece.Width; column++)
            {
                covered[((y + row) * width) + x + column] = piece.Source[(row * piece.Width) + column] != Piece.Outside;
            }
        }

        var instances = new List<InstanceTarget>();
        foreach (var instance in targets.Instances)
        {
            var left = new BinaryMask(width, height, instance.Mask.Data.Select((v, p) => v && !covered[p]).ToArray());
            if (left.Area >= minPixels)
            {
                instances.Add(instance with { Mask = left, Box = PseudoLabeler.TightBox(left) });
            }
        }

        var mask = new BinaryMask(width, height, covered);
        instances.Add(new InstanceTarget(PseudoLabeler.TightBox(mask), mask, PseudoLabeler.NormalObjectClass));
        return new SegmentationTargets(instances);
    }
}

/// <summary>
/// A cut-out piece, <paramref name="Width"/> x <paramref name="Height"/> pixels, row-major: for
/// each pixel, the flat index (y * frame width + x) of the donor-frame pixel it shows, or
/// <see cref="Outside"/> where it is not part of the object.
/// </summary>
internal sealed record Piece(int Width, int Height, int[] Source)
{
    public const int Outside = -1;
}
