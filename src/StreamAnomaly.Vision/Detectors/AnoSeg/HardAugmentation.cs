using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>The three hard augmentations of AnoSeg's synthetic anomalies.</summary>
public enum HardAugmentationKind
{
    /// <summary>The patch turned by 90, 180 or 270 degrees.</summary>
    Rotation,

    /// <summary>The patch cut into a 4 x 4 grid of cells, shuffled.</summary>
    Permutation,

    /// <summary>The patch's colour channels permuted, its contrast and brightness changed.</summary>
    ColourJitter,
}

/// <summary>
/// AnoSeg's synthetic anomalies (Song et al. 2021): a square patch of a normal frame is hard-augmented
/// (<see cref="HardAugmentationKind"/>) and pasted back at a random place. The reference mask is exact:
/// the pixels the paste changed by more than <see cref="Tolerance"/> in some channel (a patch pasted
/// onto identical content changes nothing there, so nothing is marked anomalous there).
/// </summary>
public static class HardAugmentation
{
    /// <summary>Colour change (in [0, 1] units, largest over the channels) above which a pixel counts as altered: 8/255.</summary>
    public const double Tolerance = 8.0 / 255;

    private const int Cells = 4;

    private static readonly long[][] ChannelOrders = [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

    /// <summary>
    /// Copies of <paramref name="frames"/> [N, 3, S, S] in [0, 1] where each frame, with probability
    /// <paramref name="share"/>, carries one augmented patch of side in [<paramref name="minPatch"/>,
    /// <paramref name="maxPatch"/>] x S, and their masks [N, 1, S, S] (1 = altered). The caller owns both.
    /// </summary>
    public static (Tensor Frames, Tensor Masks) Apply(Tensor frames, double share, double minPatch, double maxPatch, Random random)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(random);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var result = frames.clone();
        var size = (int)frames.shape[3];
        var low = Math.Max(Cells, (int)Math.Round(minPatch * size));
        var high = Math.Clamp((int)Math.Round(maxPatch * size), low, size);
        for (var i = 0; i < frames.shape[0]; i++)
        {
            if (random.NextDouble() >= share)
            {
                continue;
            }

            var side = random.Next(low, high + 1);
            var kind = (HardAugmentationKind)random.Next(3);
            if (kind == HardAugmentationKind.Permutation)
            {
                side = Math.Max(Cells, side / Cells * Cells);
            }

            var frame = frames[i];
            var patch = frame.narrow(1, random.Next(size - side + 1), side).narrow(2, random.Next(size - side + 1), side);
            var augmented = kind switch
            {
                HardAugmentationKind.Rotation => Rotate(patch, random.Next(1, 4)),
                HardAugmentationKind.Permutation => Permute(patch, Permutation(random)),
                _ => Jitter(patch, ChannelOrders[random.Next(ChannelOrders.Length)], 0.5 + random.NextDouble(), (random.NextDouble() * 0.4) - 0.2),
            };
            result[i].narrow(1, random.Next(size - side + 1), side).narrow(2, random.Next(size - side + 1), side).copy_(augmented);
        }

        using var tolerance = Tolerance.ToScalar();
        var masks = result.sub(frames).abs().amax([1], keepdim: true).gt(tolerance).to_type(ScalarType.Float32);
        return (result.MoveToOuterDisposeScope(), masks.MoveToOuterDisposeScope());
    }

    /// <summary><paramref name="patch"/> [3, s, s] turned counter-clockwise by <paramref name="quarters"/> x 90 degrees.</summary>
    public static Tensor Rotate(Tensor patch, int quarters)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return (quarters % 4) switch
        {
            1 => patch.transpose(1, 2).flip(1),
            2 => patch.flip(1, 2),
            3 => patch.transpose(1, 2).flip(2),
            _ => patch.clone(),
        };
    }

    /// <summary>
    /// <paramref name="patch"/> [3, s, s] (s a multiple of 4) cut into a 4 x 4 grid of cells, cell k
    /// of the result (row by row) being cell <paramref name="order"/>[k] of the patch.
    /// </summary>
    public static Tensor Permute(Tensor patch, long[] order)
    {
        ArgumentNullException.ThrowIfNull(patch);
        ArgumentNullException.ThrowIfNull(order);
        using var scope = NewDisposeScope();
        var side = patch.shape[1];
        var cell = side / Cells;
        var cells = patch.reshape(3, Cells, cell, Cells, cell).permute(1, 3, 0, 2, 4).reshape(Cells * Cells, 3, cell, cell);
        using var picks = tensor(order, device: patch.device);
        return cells.index_select(0, picks).reshape(Cells, Cells, 3, cell, cell).permute(2, 0, 3, 1, 4).reshape(3, side, side).MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="patch"/> [3, s, s] with its channels reordered, its contrast scaled about its mean and its brightness shifted, clamped to [0, 1].</summary>
    public static Tensor Jitter(Tensor patch, long[] channels, double contrast, double brightness)
    {
        ArgumentNullException.ThrowIfNull(patch);
        using var scope = NewDisposeScope();
        using var order = tensor(channels, device: patch.device);
        using var scale = contrast.ToScalar();
        using var shift = brightness.ToScalar();
        var reordered = patch.index_select(0, order);
        var mean = reordered.mean();
        return reordered.sub(mean).mul(scale).Plus(mean).add(shift).clamp(HeldScalars.Zero, HeldScalars.One).MoveToOuterDisposeScope();
    }

    private static long[] Permutation(Random random)
    {
        var order = Enumerable.Range(0, Cells * Cells).Select(static k => (long)k).ToArray();
        while (order.Select(static (v, k) => v == k).All(static same => same))
        {
            random.Shuffle(order);
        }

        return order;
    }
}
