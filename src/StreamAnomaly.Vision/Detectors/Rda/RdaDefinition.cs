using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Rda;

/// <summary>
/// The robust deep autoencoder's catalog entry: fits on the usable frames; the bundle holds the
/// autoencoder (the training frames' sparse part S is summarised in the facts, not kept). A new
/// frame's score is the residual of the autoencoder on the frame itself: no S is solved for it.
/// </summary>
public sealed class RdaDefinition : DetectorDefinition<RdaOptions>
{
    public override string Name => RdaTrainer.Name;

    public override string Summary => "Robust deep autoencoder (Zhou and Paffenroth): frames X = L + S, the baseline's network trained on L while an l1-shrunk sparse S takes what it cannot rebuild; score = reconstruction residual of a new frame";

    public override DetectorOptions Quick => new RdaOptions { Size = 32, Width = 8, Code = 32, Iterations = 2, Epochs = 2, Batch = 8 };

    protected override FittedDetector Fit(RdaOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        using var result = RdaTrainer.Train(train, options, context);
        return new FittedDetector(result.Detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["iterations"] = options.Iterations.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = (options.Iterations * options.Epochs).ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = result.FinalLoss.ToString("R", CultureInfo.InvariantCulture),
            ["sparseFraction"] = result.SparseFraction.ToString("R", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(RdaOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var model = new ConvAutoencoder(options.Size, options.Width, options.Code);
        ModuleWeights.Import(model, weights, path, Name);
        return ReconstructionDetector.Of(Name, model, options, device);
    }
}
