using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Inr;

/// <summary>The INR detector's catalog entry: the usable frames at the grid size teach the SIREN initialisation.</summary>
public sealed class InrDefinition : DetectorDefinition<InrOptions>
{
    public override string Name => InrDetector.Name;

    public override string Summary => "SIREN f(x, y) -> colour fitted to each frame from a learned (mean frame + Reptile) initialisation and stopped early; score = the residual left (foreign content is fitted late)";

    public override DetectorOptions Quick => new InrOptions { Size = 32, Hidden = 32, Layers = 2, Steps = 10, PrefitSteps = 150, MetaIterations = 10, MetaBatch = 4, Peak = 4 };

    protected override FittedDetector Fit(InrOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var stopwatch = Stopwatch.StartNew();
        using var train = FrameTensors.Stack(frames.Frames(clips), options.Size, options.Size);
        if (train.shape[0] == 0)
        {
            throw new ArgumentException($"no {frames} to train on");
        }

        var (detector, prefitLoss, metaLoss) = InrTrainer.Train(train, options, context);
        return new FittedDetector(detector, new Dictionary<string, string>
        {
            ["trainFrames"] = train.shape[0].ToString(CultureInfo.InvariantCulture),
            ["prefitSteps"] = options.PrefitSteps.ToString(CultureInfo.InvariantCulture),
            ["prefitLoss"] = prefitLoss.ToString("R", CultureInfo.InvariantCulture),
            ["metaIterations"] = options.MetaIterations.ToString(CultureInfo.InvariantCulture),
            ["finalLoss"] = metaLoss.ToString("R", CultureInfo.InvariantCulture),
            ["fitSeconds"] = stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(InrOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var siren = new Siren(options.Hidden, options.Layers, options.Omega);
        ModuleWeights.Import(siren, weights, path, Name);
        return new InrDetector(siren, options, device);
    }
}
