using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Vae;

/// <summary>The variational autoencoder's catalog entry: fits on the usable frames, one stage.</summary>
public sealed class VaeDefinition : DetectorDefinition<VaeOptions>
{
    public override string Name => VaeTrainer.Name;

    public override string Summary => "Convolutional variational autoencoder (latent pushed toward N(0, I), weight beta); score = reconstruction residual of the mean latent (+ its KL term with kl=true)";

    public override DetectorOptions Quick => new VaeOptions { Size = 32, Width = 8, Code = 32, Epochs = 4, Batch = 8 };

    protected override FittedDetector Fit(VaeOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        var result = VaeTrainer.Train(train, options, context);
        return new FittedDetector(result.Detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = result.FinalLoss.ToString("R", CultureInfo.InvariantCulture),
            ["finalMeanSquaredError"] = result.FinalReconstruction.ToString("R", CultureInfo.InvariantCulture),
            ["finalKlNats"] = result.FinalDivergence.ToString("R", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(VaeOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var model = new VariationalAutoencoder(options.Size, options.Width, options.Code);
        ModuleWeights.Import(model, weights, path, Name);
        return VaeTrainer.Detector(model, options, device);
    }
}
