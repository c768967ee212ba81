using StreamAnomaly.Vision.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>Settings of <see cref="DecoyPaste"/>.</summary>
/// <param name="Probability">Chance that a frame receives a decoy; in [0, 1].</param>
/// <param name="MinSide">Smallest axis of an ellipse decoy (length of a solid one), as a fraction of the frame's shorter side.</param>
/// <param name="MaxSide">Largest axis of an ellipse decoy (length of a solid one), as a fraction of the frame's shorter side.</param>
/// <param name="Tries">Random places tried for a decoy that must miss every labelled object.</param>
/// <param name="Solid">
/// Share of the decoys that are a solid-coloured random polygon (a tool, a box, a rag: one colour,
/// lightly shaded, up to 3 times as long as wide) instead of an ellipse of recoloured scene content; in [0, 1].
/// </param>
public sealed record DecoyPasteOptions(double Probability = 0.5, double MinSide = 0.08, double MaxSide = 0.25, int Tries = 10, double Solid = 0);

/// <summary>
/// Negative pastes for the segmentation stage, after CutPaste (Li et al., "CutPaste: Self-Supervised
/// Learning for Anomaly Detection and Localization", 2021): an ellipse of scene content, cut from a
/// frame of the batch away from its labelled objects, recoloured (channels shuffled and scaled) and
/// pasted elsewhere away from the target's objects, with NO label. The pseudo-labels teach the head
/// "what the autoencoder could not rebuild"; decoys teach it that a foreign-looking blob is not by
/// itself a normal object, so it learns what the normal object looks like and leaves other objects
/// (the anomalies) in the residual. Solid decoys (<see cref="DecoyPasteOptions.Solid"/>) are the
/// other kind of foreign object: one flat colour and a hard outline, as tools and packaging are.
/// Uses no abnormal footage.
/// </summary>
public static class DecoyPaste
{
    private static readonly int[][] Orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

    /// <summary>
    /// A new batch (float [N, 3, H, W] in [0, 1], same device) with decoys pasted; <paramref name="images"/>
    /// is left unchanged and the instances stay as they are (decoys never touch them).
    /// </summary>
    public static Tensor Apply(Tensor images, IReadOnlyList<SegmentationTargets> targets, Random random, DecoyPasteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(random);
        options ??= new DecoyPasteOptions();
        var count = (int)images.shape[0];
        if (targets.Count != count)
        {
            throw new ArgumentException($"{targets.Count} targets for {count} images", nameof(targets));
        }

        var (height, width) = ((int)images.shape[2], (int)images.shape[3]);
        var occupied = targets.Select(t => Occupied(t, width, height)).ToArray();
        var pasted = images.clone();
        for (var i = 0; i < count; i++)
        {
            if (random.NextDouble() >= options.Probability)
            {
                continue;
            }

            var shorter = Math.Min(width, height);
            int Axis() => Math.Max(3, (int)Math.Round(shorter * (options.MinSide + (random.NextDouble() * (options.MaxSide - options.MinSide)))));
            if (options.Solid > 0 && random.NextDouble() < options.Solid)
            {
                var shape = Polygon(random, Axis(), 1 + (2 * random.NextDouble()));
                if (FreePlace(occupied[i], shape, width, height, random, options.Tries) is { } at)
                {
                    PasteSolid(pasted, i, shape, at, random);
                }

                continue;
            }

            var inside = Ellipse(Axis(), Axis());
            var donor = random.Next(count);
            if (FreePlace(occupied[donor], inside, width, height, random, options.Tries) is not { } from
                || FreePlace(occupied[i], inside, width, height, random, options.Tries) is not { } to)
            {
                continue;
            }

            var order = Orders[random.Next(Orders.Length)];
            var gains = Enumerable.Range(0, 3).Select(_ => (float)(0.4 + (random.NextDouble() * 1.2))).ToArray();
            Paste(pasted, i, images, donor, inside, from, to, order, gains);
        }

        return pasted;
    }

    /// <summary>Pixels covered by any instance of <paramref name="targets"/>.</summary>
    private static bool[] Occupied(SegmentationTargets targets, int width, int height)
    {
        var occupied = new bool[width * height];
        foreach (var instance in targets.Instances)
        {
            var mask = instance.Mask.Width == width && instance.Mask.Height == height ? instance.Mask : instance.Mask.Resized(width, height);
            for (var p = 0; p < occupied.Length; p++)
            {
                occupied[p] |= mask.Data[p];
            }
        }

        return occupied;
    }

    /// <summary>A filled axis-aligned ellipse inscribed in a <paramref name="w"/> x <paramref name="h"/> box, [row, column].</summary>
    internal static bool[,] Ellipse(int w, int h)
    {
        var inside = new bool[h, w];
        var (cx, cy) = ((w - 1) / 2.0, (h - 1) / 2.0);
        var (rx, ry) = (w / 2.0, h / 2.0);
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
                inside[y, x] = (dx * dx) + (dy * dy) <= 1;
            }
        }

        return inside;
    }

    /// <summary>
    /// A filled random polygon, [row, column]: 5-9 corners around a centre at 55-100 % of the radius,
    /// stretched to <paramref name="length"/> pixels by length / <paramref name="aspect"/>, turned by a random angle.
    /// </summary>
    internal static bool[,] Polygon(Random random, int length, double aspect)
    {
        var corners = random.Next(5, 10);
        var turn = random.NextDouble() * Math.PI;
        var (cos, sin) = (Math.Cos(turn), Math.Sin(turn));
        var (along, across) = (length / 2.0, Math.Max(1.5, length / (2.0 * aspect)));
        var points = Enumerable.Range(0, corners).Select(k =>
        {
            var angle = (2 * Math.PI * (k + (0.3 * (random.NextDouble() - 0.5)))) / corners;
            var r = 0.55 + (0.45 * random.NextDouble());
            var (u, v) = (r * along * Math.Cos(angle), r * across * Math.Sin(angle));
            return (X: (u * cos) - (v * sin), Y: (u * sin) + (v * cos));
        }).ToArray();
        var (left, top) = (Math.Floor(points.Min(p => p.X)), Math.Floor(points.Min(p => p.Y)));
        var (w, h) = ((int)Math.Ceiling(points.Max(p => p.X) - left) + 1, (int)Math.Ceiling(points.Max(p => p.Y) - top) + 1);
        var inside = new bool[h, w];
        for (var row = 0; row < h; row++)
        {
            for (var column = 0; column < w; column++)
            {
                inside[row, column] = Contains(points, left + column + 0.5, top + row + 0.5);
            }
        }

        return inside;
    }

    /// <summary>Even-odd rule: does the closed polygon <paramref name="points"/> contain (x, y)?</summary>
    private static bool Contains((double X, double Y)[] points, double x, double y)
    {
        var inside = false;
        for (int a = 0, b = points.Length - 1; a < points.Length; b = a++)
        {
            if ((points[a].Y > y) != (points[b].Y > y)
                && x < points[a].X + ((y - points[a].Y) * (points[b].X - points[a].X) / (points[b].Y - points[a].Y)))
            {
                inside = !inside;
            }
        }

        return inside;
    }

    /// <summary>A top-left corner where the shape misses every occupied pixel, or null after <paramref name="tries"/> attempts.</summary>
    private static (int X, int Y)? FreePlace(bool[] occupied, bool[,] inside, int width, int height, Random random, int tries)
    {
        var (w, h) = (inside.GetLength(1), inside.GetLength(0));
        if (w > width || h > height)
        {
            return null;
        }

        for (var attempt = 0; attempt < tries; attempt++)
        {
            var (x, y) = (random.Next(width - w + 1), random.Next(height - h + 1));
            var free = true;
            for (var row = 0; row < h && free; row++)
            {
                for (var column = 0; column < w && free; column++)
                {
                    free = !(inside[row, column] && occupied[((y + row) * width) + x + column]);
                }
            }

            if (free)
            {
                return (x, y);
            }
        }

        return null;
    }

    /// <summary>Fills <paramref name="inside"/> at <paramref name="at"/> with one random colour, shaded by up to 15 % along a random direction.</summary>
    private static void PasteSolid(Tensor pasted, int target, bool[,] inside, (int X, int Y) at, Random random)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (w, h) = (inside.GetLength(1), inside.GetLength(0));
        var colour = Enumerable.Range(0, 3).Select(_ => random.NextDouble()).ToArray();
        var direction = random.NextDouble() * 2 * Math.PI;
        var halfDiagonal = Math.Sqrt((w * w) + (h * h)) / 2;
        var (dx, dy) = (Math.Cos(direction) / halfDiagonal, Math.Sin(direction) / halfDiagonal);
        var fill = new float[3 * h * w];
        for (var c = 0; c < 3; c++)
        {
            for (var row = 0; row < h; row++)
            {
                for (var column = 0; column < w; column++)
                {
                    var shade = 1 + (0.15 * (((column + 0.5 - (w / 2.0)) * dx) + ((row + 0.5 - (h / 2.0)) * dy)));
                    fill[(((c * h) + row) * w) + column] = (float)Math.Clamp(colour[c] * shade, 0, 1);
                }
            }
        }

        var region = pasted[TensorIndex.Single(target), TensorIndex.Colon, TensorIndex.Slice(at.Y, at.Y + h), TensorIndex.Slice(at.X, at.X + w)];
        var mask = tensor(inside.Cast<bool>().ToArray(), [1, h, w]).to(pasted.device);
        region.copy_(where(mask, tensor(fill, [3, h, w]).to(pasted.device), region));
    }

    private static void Paste(Tensor pasted, int target, Tensor images, int donor, bool[,] inside, (int X, int Y) from, (int X, int Y) to, int[] order, float[] gains)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (w, h) = (inside.GetLength(1), inside.GetLength(0));
        var source = images[TensorIndex.Single(donor), TensorIndex.Colon, TensorIndex.Slice(from.Y, from.Y + h), TensorIndex.Slice(from.X, from.X + w)];
        var recoloured = (source.index_select(0, tensor(order.Select(c => (long)c).ToArray()).to(images.device))
            * tensor(gains, [3, 1, 1]).to(images.device)).clamp(0, 1);
        var region = pasted[TensorIndex.Single(target), TensorIndex.Colon, TensorIndex.Slice(to.Y, to.Y + h), TensorIndex.Slice(to.X, to.X + w)];
        var mask = tensor(inside.Cast<bool>().ToArray(), [1, h, w]).to(images.device);
        region.copy_(where(mask, recoloured, region));
    }
}
