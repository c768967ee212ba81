using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Ganomaly;

/// <summary>GANomaly's catalog entry: trains the generator and discriminator from scratch on the usable frames.</summary>
public sealed class GanomalyDefinition : DetectorDefinition<GanomalyOptions>
{
    public override string Name => GanomalyDetector.Name;

    public override string Summary => "GANomaly (Akcay et al. 2018): encoder-decoder-encoder generator trained adversarially on normal frames; score = distance between the frame's latent code and its reconstruction's (whole-frame, no map)";

    public override DetectorOptions Quick => new GanomalyOptions { Size = 32, Width = 8, Latent = 16, Epochs = 4, Batch = 8, LearningRate = 1e-3 };

    protected override FittedDetector Fit(GanomalyOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        var (detector, losses) = GanomalyTrainer.Train(train, options, context);
        return new FittedDetector(detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = losses.Generator.ToString("R", CultureInfo.InvariantCulture),
            ["finalAdversarialLoss"] = losses.Adversarial.ToString("R", CultureInfo.InvariantCulture),
            ["finalContextualLoss"] = losses.Contextual.ToString("R", CultureInfo.InvariantCulture),
            ["finalEncoderLoss"] = losses.Encoder.ToString("R", CultureInfo.InvariantCulture),
            ["finalDiscriminatorLoss"] = losses.Discriminator.ToString("R", CultureInfo.InvariantCulture),
            ["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(GanomalyOptions options, byte[] weights, JsonObject? state, string path, Device device) =>
        GanomalyDetector.Load(options, weights, path, device);
}
