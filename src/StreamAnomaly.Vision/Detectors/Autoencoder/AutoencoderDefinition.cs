using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Autoencoder;

/// <summary>The autoencoder baseline's catalog entry: fits on the usable frames, one stage.</summary>
public sealed class AutoencoderDefinition : DetectorDefinition<AutoencoderOptions>
{
    public override string Name => AutoencoderDetector.Name;

    public override string Summary => "Convolutional autoencoder with a fully-connected bottleneck; score = reconstruction residual (both papers' baseline)";

    public override DetectorOptions Quick => new AutoencoderOptions { Size = 32, Width = 8, Code = 32, Epochs = 4, Batch = 8 };

    protected override FittedDetector Fit(AutoencoderOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        var (detector, finalLoss) = AutoencoderTrainer.Train(train, options, context);
        return new FittedDetector(detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = finalLoss.ToString("R", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(AutoencoderOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var model = new ConvAutoencoder(options.Size, options.Width, options.Code);
        ModuleWeights.Import(model, weights, path, Name);
        return new AutoencoderDetector(model, options, device);
    }
}
