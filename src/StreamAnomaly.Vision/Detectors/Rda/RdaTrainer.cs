using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Rda;

/// <summary>
/// Trains a robust deep autoencoder (Zhou and Paffenroth 2017, l1 variant): the training frames X
/// are split as X = L + S, L what the autoencoder can rebuild and S a sparse part that takes what
/// it cannot (a foreign object in a training frame), so the outliers do not teach the network.
/// Starting from S = 0, each of <see cref="RdaOptions.Iterations"/> iterations trains the
/// baseline's <see cref="ConvAutoencoder"/> on L = X - S for <see cref="RdaOptions.Epochs"/> epochs
/// (mean squared error; one optimiser throughout), then sets S = shrink_lambda(X - AE(L)), the
/// element-wise soft threshold (the proximal step of lambda * ||S||_1).
/// </summary>
public static class RdaTrainer
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "rda";

    /// <summary>Frames per forward pass of the S update.</summary>
    private const int UpdateBatch = 32;

    /// <summary>What one fit ends with: the detector, the last iteration's last-epoch mean loss, and the sparse part S of the training frames (float [N, 3, S, S] on the CPU; the caller owns it).</summary>
    public sealed record Result(ReconstructionDetector Detector, double FinalLoss, Tensor Sparse) : IDisposable
    {
        /// <summary>Fraction of the values of S that are not zero.</summary>
        public double SparseFraction
        {
            get
            {
                using var nonzero = Sparse.count_nonzero();
                return (double)nonzero.item<long>() / Sparse.numel();
            }
        }

        /// <summary>Disposes <see cref="Sparse"/> (not the detector).</summary>
        public void Dispose() => Sparse.Dispose();
    }

    /// <summary>Trains a new robust deep autoencoder on <paramref name="frames"/> (uint8 [N, 3, S, S], S = <see cref="AutoencoderFamilyOptions.Size"/>).</summary>
    public static Result Train(Tensor frames, RdaOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        AutoencoderTrainer.CheckFrames(frames, options.Size);
        random.manual_seed(context.Seed);
        var model = new ConvAutoencoder(options.Size, options.Width, options.Code);
        var sparse = zeros(frames.shape, dtype: ScalarType.Float32).DetachFromDisposeScope();
        try
        {
            model.to(context.Device);
            var loss = Fit(model, frames, sparse, options, context);
            return new Result(ReconstructionDetector.Of(Name, model, options, context.Device), loss, sparse);
        }
        catch
        {
            model.Dispose();
            sparse.Dispose();
            throw;
        }
    }

    /// <summary>The element-wise soft threshold sign(x) * max(|x| - lambda, 0): the proximal operator of lambda * ||x||_1.</summary>
    public static Tensor Shrink(Tensor values, double lambda)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = NewDisposeScope();
        using var threshold = lambda.ToScalar();
        return values.sign().mul(values.abs().sub(threshold).clamp_min(HeldScalars.Zero)).MoveToOuterDisposeScope();
    }

    private static double Fit(ConvAutoencoder model, Tensor frames, Tensor sparse, RdaOptions options, FitContext context)
    {
        using var generator = new Generator((ulong)context.Seed);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        var count = frames.shape[0];
        var loss = double.NaN;
        for (var iteration = 1; iteration <= options.Iterations; iteration++)
        {
            model.train();
            loss = MiniBatchLoop.Run(optimizer, count, options.Batch, options.Epochs, $"{Name} {iteration}/{options.Iterations}", generator, context.Progress, context.CancellationToken, picks =>
            {
                var low = AutoencoderTrainer.TrainingBatch(frames, picks, jitter: false, generator, context.Device)
                    .sub(sparse.index_select(0, tensor(picks)).to(context.Device));
                if (options.ColourJitter)
                {
                    low = ColourJitter.Apply(low, generator, context.Device);
                }

                return nn.functional.mse_loss(model.call(low), low);
            });

            model.eval();
            UpdateSparse(model, frames, sparse, options.Lambda, context);
        }

        return loss;
    }

    /// <summary>S = shrink_lambda(X - AE(X - S)) for every training frame, in place.</summary>
    private static void UpdateSparse(ConvAutoencoder model, Tensor frames, Tensor sparse, double lambda, FitContext context)
    {
        for (long start = 0; start < frames.shape[0]; start += UpdateBatch)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var length = Math.Min(UpdateBatch, frames.shape[0] - start);
            var x = FrameTensors.ToUnitFloat(frames.narrow(0, start, length), context.Device);
            var s = sparse.narrow(0, start, length);
            var rebuilt = model.call(x.sub(s.to(context.Device)));
            s.copy_(Shrink(x.sub(rebuilt), lambda).cpu());
        }
    }
}
