using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>AnoSeg's segmentation loss: per-pixel binary cross-entropy plus a weighted soft Dice loss.</summary>
public static class AnoSegLoss
{
    /// <summary>
    /// Soft Dice loss of <paramref name="logits"/> against <paramref name="masks"/> (same shape, 0/1),
    /// over the whole batch: 1 - (2 sum(p m) + 1) / (sum p + sum m + 1), p = sigmoid(logits). The
    /// smoothing 1 makes a batch of empty masks predicted empty cost 0.
    /// </summary>
    public static Tensor Dice(Tensor logits, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(masks);
        using var scope = NewDisposeScope();
        var p = logits.sigmoid();
        var overlap = p.mul(masks).sum().mul(HeldScalars.Two).add(HeldScalars.One);
        var total = p.sum().Plus(masks.sum()).add(HeldScalars.One);
        return overlap.div(total).neg().add(HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>Mean binary cross-entropy of <paramref name="logits"/> against <paramref name="masks"/> plus <paramref name="diceWeight"/> x <see cref="Dice"/>.</summary>
    public static Tensor Compute(Tensor logits, Tensor masks, double diceWeight)
    {
        using var scope = NewDisposeScope();
        using var weight = diceWeight.ToScalar();
        var bce = nn.functional.binary_cross_entropy_with_logits(logits, masks);
        return bce.add(Dice(logits, masks).mul(weight), HeldScalars.One).MoveToOuterDisposeScope();
    }
}
