using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Temporal;

/// <summary>
/// The temporal masking detector's catalog entry: fits on runs of consecutive usable frames (an
/// unusable frame ends a run; runs shorter than one window are dropped).
/// </summary>
public sealed class TemporalDefinition : DetectorDefinition<TemporalOptions>
{
    public override string Name => TemporalDetector.Name;

    public override string Summary => "ConvLSTM autoencoder on windows of frames, with an R3D-18 Eigen-CAM mask of irrelevant background learned from the machine cycle (paper 2)";

    public override DetectorOptions Quick => new TemporalOptions
    {
        Size = 32, Window = 4, AutoencoderWidth = 4, AutoencoderHidden = 8, AutoencoderCode = 32, MaskWidthDivisor = 16,
        Epochs = 2, MaskEpochs = 2, Batch = 4, CamWindow = 3,
    };

    protected override FittedDetector Fit(TemporalOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var runs = frames.Runs(clips, options.Window);
        if (runs.Count == 0)
        {
            throw new ArgumentException($"no run of {options.Window} consecutive {frames} to train on");
        }

        var tensors = runs.Select(r => FrameTensors.ToByteTensor(r.Frames, options.Size, options.Size)).ToList();
        try
        {
            var (detector, autoencoderLoss, maskLoss) = TemporalTrainer.Train(tensors, options, context);
            return new FittedDetector(detector, new Dictionary<string, string>
            {
                ["trainFrames"] = runs.Sum(r => r.Frames.Count).ToString(CultureInfo.InvariantCulture),
                ["trainRuns"] = runs.Count.ToString(CultureInfo.InvariantCulture),
                ["referenceClip"] = runs[detector.Cycle.ReferenceClip].Clip.Name,
                ["cyclePeriod"] = detector.Cycle.Period.ToString("F2", CultureInfo.InvariantCulture),
                ["finalLoss"] = autoencoderLoss.ToString("R", CultureInfo.InvariantCulture),
                ["finalMaskLoss"] = maskLoss.ToString("R", CultureInfo.InvariantCulture),
            });
        }
        finally
        {
            tensors.ForEach(t => t.Dispose());
        }
    }

    protected override IBundledDetector Load(TemporalOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var cycle = TemporalDetector.ReadState(state, path);
        var networks = TemporalDetector.Build(options);
        ModuleWeights.Import(networks, weights, path, Name);
        return new TemporalDetector(networks, options, cycle, device);
    }
}
