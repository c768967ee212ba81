using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Detectors.Temporal.Network;
using StreamAnomaly.Vision.Training;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Temporal;

/// <summary>The weak labels of a training set: the cycle found on the reference clip and every clip's labels.</summary>
public sealed record WeakLabels(PeriodEstimate Cycle, int ReferenceClip, int Transition, IReadOnlyList<ClipCycleLabels> Clips);

/// <summary>
/// Trains the temporal masking detector on NORMAL clips: (a) the ConvLSTM autoencoder on windows of T
/// consecutive frames, to predict frames 1 .. T - 1 each from the frames before it (MSE), (b) weak
/// partition labels per clip, (c) the R3D-18 on clips of T frames against the smoothed labels
/// (soft-target cross entropy).
/// </summary>
/// <remarks>
/// Weak labels (<see cref="Label"/>): the reference frame is frame 0 of the reference clip, the first clip
/// (put a clean background clip first; the suite's train/ folder sorts <c>background-*</c> first). d(t) of
/// every clip is measured against that one frame (see <see cref="CycleLabels"/> for why), the period and
/// template come from <see cref="PeriodEstimator"/> on the reference clip's d(t), and each clip is aligned to
/// the template repeated round(n / period) times and resampled to its length, at the best start phase.
/// </remarks>
public static class TemporalTrainer
{
    /// <summary>Stage names reported through <see cref="TrainingProgress"/>.</summary>
    public const string AutoencoderStage = "convlstm", MaskStage = "r3d18";

    /// <summary>
    /// Trains both networks on <paramref name="clips"/>: per clip, its consecutive frames as uint8
    /// [n, 3, S, S] (see <see cref="FrameTensors.ToByteTensor"/>), S = <see cref="TemporalOptions.Size"/>,
    /// n &gt;= T. Returns the detector with the last epoch's mean loss of each network.
    /// </summary>
    public static (TemporalDetector Detector, double AutoencoderLoss, double MaskLoss) Train(IReadOnlyList<Tensor> clips, TemporalOptions options, FitContext context)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        DetectorOptionsJson.Validate(options);
        if (clips.Count == 0)
        {
            throw new ArgumentException("no training clips", nameof(clips));
        }

        foreach (var clip in clips)
        {
            if (clip.dim() != 4 || clip.shape[1] != 3 || clip.shape[2] != options.Size || clip.shape[3] != options.Size)
            {
                throw new ArgumentException($"training clips must be [n, 3, {options.Size}, {options.Size}], got [{string.Join(", ", clip.shape)}]", nameof(clips));
            }
        }

        var usable = clips.Where(c => c.shape[0] >= options.Window).ToArray();
        if (usable.Length == 0)
        {
            throw new ArgumentException($"no training clip has the {options.Window} frames of one window", nameof(clips));
        }

        var labels = Label(usable, options.Partitions, options.Transition);
        random.manual_seed(context.Seed);
        var networks = TemporalDetector.Build(options);
        double autoencoderLoss, maskLoss;
        try
        {
            if (options.PretrainedMask)
            {
                using var pretrained = PretrainedResNet18.Load();
                networks.Masker.InflateFrom(pretrained);
            }

            networks.to(context.Device);
            var windows = Windows(usable, options.Window, stride: Math.Max(1, options.Window / 2));
            using var generator = new Generator((ulong)context.Seed);
            autoencoderLoss = FitAutoencoder(networks.Autoencoder, usable, windows, options, generator, context);
            var targets = labels.Clips.Select(c => tensor(c.Soft.SelectMany(r => r.Select(v => (float)v)).ToArray(), [c.Soft.Length, options.Partitions])).ToArray();
            try
            {
                maskLoss = FitMasker(networks.Masker, usable, targets, windows, options, generator, context);
            }
            finally
            {
                foreach (var t in targets)
                {
                    t.Dispose();
                }
            }
        }
        catch
        {
            networks.Dispose();
            throw;
        }

        var cycle = new CycleFacts(labels.Cycle.Period, labels.Cycle.Template, labels.Transition, labels.ReferenceClip);
        return (new TemporalDetector(networks, options, cycle, context.Device), autoencoderLoss, maskLoss);
    }

    /// <summary>Side in pixels of the frames d(t) is measured on (see <see cref="Label"/>).</summary>
    public const int DistanceSize = 16;

    /// <summary>
    /// Weak partition labels of clips given as uint8 [n, 3, H, W] (see the class remarks): d(t) of every clip
    /// against frame 0 of clip <paramref name="referenceClip"/>, the period on that clip, DTW, smoothed labels.
    /// </summary>
    /// <remarks>
    /// d(t) is measured on frames area-averaged to <see cref="DistanceSize"/> pixels with each frame's
    /// per-channel mean removed: at full resolution the sensor noise sets a floor under d and a slow global
    /// lighting drift moves its level by more than the machine's own dips (measured on the robot cell at
    /// 64 px: noise floor about 9.5 grey levels, drift about +-6, cycle dips about 8), and the
    /// autocorrelation then locks onto a sub-multiple of the cycle.
    /// </remarks>
    public static WeakLabels Label(IReadOnlyList<Tensor> clips, int partitions, int transition, int referenceClip = 0)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        ArgumentOutOfRangeException.ThrowIfNegative(transition);
        if (referenceClip < 0 || referenceClip >= clips.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(referenceClip), referenceClip, $"there are {clips.Count} clips");
        }

        var frames = clips.Select(DistanceFrames).ToArray();
        var reference = frames[referenceClip][0];
        var distances = frames.Select(clip => FrameDistance.Compute([reference, .. clip], channels: 3).Skip(1).ToArray()).ToArray();
        var refDistance = distances[referenceClip];
        PeriodEstimate cycle;
        try
        {
            cycle = PeriodEstimator.Estimate(refDistance, minPeriod: Math.Max(2, partitions));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException($"no machine cycle found in the reference clip ({refDistance.Length} frames): {e.Message}", e);
        }

        var ramp = Math.Min(transition, cycle.Template.Length / partitions);
        var labelled = distances.Select(d => CycleLabels.Label(d, cycle, partitions, ramp)).ToArray();
        return new WeakLabels(cycle, referenceClip, ramp, labelled);
    }

    /// <summary>
    /// uint8 [n, 3, H, W] -> per frame, the frame area-averaged to <see cref="DistanceSize"/> pixels (when larger)
    /// minus its per-channel mean, as interleaved channel values (grey levels).
    /// </summary>
    private static float[][] DistanceFrames(Tensor clip)
    {
        using var scope = NewDisposeScope();
        var x = clip.to_type(ScalarType.Float32).cpu();
        if (x.shape[2] > DistanceSize || x.shape[3] > DistanceSize)
        {
            x = nn.functional.adaptive_avg_pool2d(x, [Math.Min(DistanceSize, x.shape[2]), Math.Min(DistanceSize, x.shape[3])]);
        }

        x = x - x.mean([2L, 3L], keepdim: true);
        var hwc = x.permute(0, 2, 3, 1).contiguous();
        var plane = (int)(hwc.shape[1] * hwc.shape[2] * hwc.shape[3]);
        var all = hwc.data<float>().ToArray();
        return Enumerable.Range(0, (int)clip.shape[0]).Select(i => all.AsSpan(i * plane, plane).ToArray()).ToArray();
    }

    /// <summary>(clip, start) of every training window: starts 0, stride, ... and the last window of each clip.</summary>
    private static (int Clip, long Start)[] Windows(IReadOnlyList<Tensor> clips, int window, int stride)
    {
        var result = new List<(int, long)>();
        for (var c = 0; c < clips.Count; c++)
        {
            var last = clips[c].shape[0] - window;
            for (long s = 0; s <= last; s += stride)
            {
                result.Add((c, s));
            }

            if (last % stride != 0)
            {
                result.Add((c, last));
            }
        }

        return [.. result];
    }

    private static Tensor Batch(IReadOnlyList<Tensor> clips, (int Clip, long Start)[] windows, long[] picks, int window, Device device)
    {
        var parts = picks.Select(i => clips[windows[i].Clip].narrow(0, windows[i].Start, window)).ToArray();
        return FrameTensors.ToUnitFloat(stack(parts, 0), device);                       // [B, T, 3, S, S]
    }

    private static double FitAutoencoder(ConvLstmAutoencoder model, IReadOnlyList<Tensor> clips, (int Clip, long Start)[] windows, TemporalOptions options, Generator generator, FitContext context)
    {
        var window = options.Window;
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        model.train();
        var loss = MiniBatchLoop.Run(optimizer, windows.Length, options.Batch, options.Epochs, AutoencoderStage, generator, context.Progress, context.CancellationToken, picks =>
        {
            var batch = Batch(clips, windows, picks, window, context.Device);
            var seen = batch.narrow(1, 0, window - 1);
            return nn.functional.mse_loss(model.call(seen), batch.narrow(1, 1, window - 1));     // step t guesses frame t + 1
        });
        model.eval();
        return loss;
    }

    private static double FitMasker(R3D18 model, IReadOnlyList<Tensor> clips, Tensor[] targets, (int Clip, long Start)[] windows, TemporalOptions options, Generator generator, FitContext context)
    {
        var window = options.Window;
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        model.train();
        var loss = MiniBatchLoop.Run(optimizer, windows.Length, options.Batch, options.MaskEpochs, MaskStage, generator, context.Progress, context.CancellationToken, picks =>
        {
            var batch = Batch(clips, windows, picks, window, context.Device);
            var target = stack(picks.Select(i => targets[windows[i].Clip].narrow(0, windows[i].Start, window)).ToArray(), 0).to(context.Device);
            return SoftTargetCrossEntropy.Compute(model.call(batch), target);
        });
        model.eval();
        return loss;
    }
}
