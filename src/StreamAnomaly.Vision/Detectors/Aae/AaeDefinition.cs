using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Aae;

/// <summary>The adversarial autoencoder's catalog entry: fits on the usable frames, one stage; the bundle holds the autoencoder only.</summary>
public sealed class AaeDefinition : DetectorDefinition<AaeOptions>
{
    public override string Name => AaeTrainer.Name;

    public override string Summary => "Adversarial autoencoder: the baseline's network with its code pushed toward N(0, I) by a latent discriminator (Makhzani et al.); score = reconstruction residual";

    public override DetectorOptions Quick => new AaeOptions { Size = 32, Width = 8, Code = 32, Epochs = 4, Batch = 8, Hidden = 32 };

    protected override FittedDetector Fit(AaeOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        var result = AaeTrainer.Train(train, options, context);
        return new FittedDetector(result.Detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = result.FinalLoss.ToString("R", CultureInfo.InvariantCulture),
            ["finalMeanSquaredError"] = result.FinalReconstruction.ToString("R", CultureInfo.InvariantCulture),
            ["finalDiscriminatorLoss"] = result.FinalDiscriminatorLoss.ToString("R", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(AaeOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var model = new ConvAutoencoder(options.Size, options.Width, options.Code);
        ModuleWeights.Import(model, weights, path, Name);
        return AaeTrainer.Detector(model, options, device);
    }
}
