using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Inr;

/// <summary>
/// Learns the SIREN initialisation the detector fits every frame from: first the SIREN is fitted to
/// the mean normal frame (<see cref="InrOptions.PrefitSteps"/> Adam steps at SIREN's 1e-4), then
/// Reptile (Nichol et al. 2018) refines it: each iteration fits copies of it to a batch of normal
/// frames with exactly the scoring budget (<see cref="InrOptions.Steps"/> Adam steps) and moves it
/// part of the way (<see cref="InrOptions.MetaRate"/>, decaying to 0) toward their mean, so that
/// normal frames are fitted well within the budget.
/// </summary>
public static class InrTrainer
{
    /// <summary>Learning rate of the fit to the mean frame (the SIREN paper's).</summary>
    public const double PrefitRate = 1e-4;

    /// <summary>
    /// Trains a detector on <paramref name="frames"/> (uint8 [N, 3, S, S], S = <see cref="InrOptions.Size"/>);
    /// returns it with the last prefit loss and the mean per-pixel residual of the last Reptile
    /// iteration's fits (NaN for a stage that did not run).
    /// </summary>
    public static (InrDetector Detector, double PrefitLoss, double MetaLoss) Train(Tensor frames, InrOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        AutoencoderTrainer.CheckFrames(frames, options.Size);

        using var generator = new Generator((ulong)context.Seed);
        var siren = new Siren(options.Hidden, options.Layers, options.Omega, generator);
        try
        {
            siren.to(context.Device);
            using var coordinates = Siren.Grid(options.Size, context.Device);
            var prefitLoss = Prefit(siren, frames, coordinates, options, context);
            var metaLoss = Reptile(siren, frames, coordinates, options, generator, context);
            return (new InrDetector(siren, options, context.Device), prefitLoss, metaLoss);
        }
        catch
        {
            siren.Dispose();
            throw;
        }
    }

    /// <summary>Fits the initialisation to the mean frame; returns the last step's loss.</summary>
    private static double Prefit(Siren siren, Tensor frames, Tensor coordinates, InrOptions options, FitContext context)
    {
        if (options.PrefitSteps == 0)
        {
            return double.NaN;
        }

        using var scope = NewDisposeScope();
        var mean = FrameTensors.ToUnitFloat(frames, context.Device).mean([0], keepdim: true);
        var targets = Siren.Targets(mean);
        var batched = siren.Replicate(1);
        var last = double.NaN;
        Siren.Fit(batched, coordinates, targets, options.Omega, options.PrefitSteps, PrefitRate, (step, loss) =>
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            last = loss;
            context.Progress?.Report(new TrainingProgress("inr-prefit", 1, 1, step, options.PrefitSteps, loss));
        });
        CopyMean(siren, batched, 1.0);
        return last;
    }

    /// <summary>Reptile on batches of normal frames; returns the last iteration's mean residual after the budget.</summary>
    private static double Reptile(Siren siren, Tensor frames, Tensor coordinates, InrOptions options, Generator generator, FitContext context)
    {
        var last = double.NaN;
        var count = frames.shape[0];
        var batch = Math.Min(options.MetaBatch, count);
        for (var iteration = 0; iteration < options.MetaIterations; iteration++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var picks = randperm(count, generator: generator).narrow(0, 0, batch);
            var targets = Siren.Targets(FrameTensors.ToUnitFloat(frames.index_select(0, picks), context.Device));
            var batched = siren.Replicate(batch);
            Siren.Fit(batched, coordinates, targets, options.Omega, options.Steps, options.StepRate);
            last = Siren.Residual(batched, coordinates, targets, options.Omega).mean().item<float>();
            CopyMean(siren, batched, options.MetaRate * (1 - ((double)iteration / options.MetaIterations)));
            context.Progress?.Report(new TrainingProgress("inr-reptile", iteration + 1, options.MetaIterations, 1, 1, last));
        }

        return last;
    }

    /// <summary>Moves each initialisation weight the fraction <paramref name="rate"/> of the way to the mean of its fitted copies.</summary>
    private static void CopyMean(Siren siren, IReadOnlyList<Tensor> batched, double rate)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var alpha = rate.ToScalar();
        for (var i = 0; i < batched.Count; i++)
        {
            var weight = siren.Weights[i];
            weight.add_(batched[i].mean([0]).sub(weight), alpha);
        }
    }
}
