using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Training;

/// <summary>
/// The one training loop every trainer shares: <c>epochs</c> passes over <c>count</c> items in a
/// fresh seeded order each epoch, cut into mini-batches. For each batch the caller builds the loss
/// from the batch's item indices; the loop zeroes gradients, back-propagates, steps the optimiser,
/// reports the epoch's running mean loss, and frees every tensor of the step (a dispose scope).
/// A learning-rate <c>scheduler</c>, when given, steps once per mini-batch, after the optimiser.
/// Returns the last epoch's mean loss.
/// </summary>
internal static class MiniBatchLoop
{
    /// <summary>Mini-batches in one epoch over <paramref name="count"/> items (the last one may be short).</summary>
    public static int StepsPerEpoch(long count, int batchSize) => (int)((count + batchSize - 1) / batchSize);

    public static double Run(
        optim.Optimizer optimizer,
        long count,
        int batchSize,
        int epochs,
        string stage,
        Generator generator,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken,
        Func<long[], Tensor> loss,
        optim.lr_scheduler.LRScheduler? scheduler = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var steps = StepsPerEpoch(count, batchSize);
        var epochLoss = double.NaN;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            long[] order;
            using (var permutation = randperm(count, generator: generator))
            {
                order = permutation.data<long>().ToArray();
            }

            var lossSum = 0.0;
            for (var step = 0; step < steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var picks = order.AsSpan(step * batchSize, (int)Math.Min(batchSize, count - (step * batchSize))).ToArray();
                optimizer.zero_grad();
                var value = loss(picks);
                value.backward();
                optimizer.step();
                scheduler?.step();
                lossSum += value.item<float>();
                progress?.Report(new TrainingProgress(stage, epoch, epochs, step + 1, steps, lossSum / (step + 1)));
            }

            epochLoss = lossSum / steps;
        }

        return epochLoss;
    }
}
