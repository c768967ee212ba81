using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// Cross entropy against soft targets (the smoothed partition labels of
/// <c>StreamAnomaly.Core.Temporal.PartitionLabels</c>): <c>-sum_c y_c log softmax(z)_c</c> per frame,
/// averaged over all frames. Logits and targets are [..., C]; target rows should sum to 1.
/// </summary>
public static class SoftTargetCrossEntropy
{
    /// <summary>Mean soft-target cross entropy (a scalar, in nats) of <paramref name="logits"/> against <paramref name="targets"/>.</summary>
    public static Tensor Compute(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (!logits.shape.SequenceEqual(targets.shape))
        {
            throw new ArgumentException($"logits [{string.Join(", ", logits.shape)}] and targets [{string.Join(", ", targets.shape)}] differ in shape");
        }

        using var scope = NewDisposeScope();
        var loss = -(targets * log_softmax(logits, -1)).sum(-1).mean();
        return loss.MoveToOuterDisposeScope();
    }
}
