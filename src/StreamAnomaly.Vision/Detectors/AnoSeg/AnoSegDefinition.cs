using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>AnoSeg's catalog entry: the usable frames, with synthetic anomalies, train the segmentation network.</summary>
public sealed class AnoSegDefinition : DetectorDefinition<AnoSegOptions>
{
    public override string Name => AnoSegDetector.Name;

    public override string Summary => "AnoSeg: a U-Net with coordinate channels trained from scratch to segment synthetic anomalies (rotated, shuffled or colour-jittered patches pasted into normal frames); the map is its output, score = its peak window";

    public override DetectorOptions Quick => new AnoSegOptions { Size = 32, Width = 4, Epochs = 3, Batch = 8, Peak = 4, MinPatch = 0.15, MaxPatch = 0.35 };

    protected override FittedDetector Fit(AnoSegOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        var (detector, finalLoss) = AnoSegTrainer.Train(train, options, context);
        return new FittedDetector(detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = finalLoss.ToString("R", CultureInfo.InvariantCulture),
            ["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(AnoSegOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var model = new AnoSegNet(options.Width);
        ModuleWeights.Import(model, weights, path, Name);
        return new AnoSegDetector(model, options, device);
    }
}
