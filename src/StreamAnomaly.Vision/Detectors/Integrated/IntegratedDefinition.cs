using System.Globalization;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>
/// The integrated CNN's catalog entry. Its stages choose their frames by label category
/// (<see cref="IntegratedOptions.BackgroundCategory"/>, <see cref="IntegratedOptions.ObjectCategory"/>);
/// the training set's own categories restrict calibration only.
/// </summary>
public sealed class IntegratedDefinition : DetectorDefinition<IntegratedOptions>
{
    public override string Name => IntegratedDetector.Name;

    public override string Summary => "One ResNet + FPN shared by an autoencoder head and a YOLACT-style head that masks normal objects (a worker's hand) out of the residual (paper 1)";

    public override DetectorOptions Quick => new IntegratedOptions
    {
        Size = 64, WidthDivisor = 8, PyramidChannels = 16, Code = 32, DecoderWidth = 8, SqueezeChannels = 8, Prototypes = 4,
        Epochs = 4, SegmentationEpochs = 2, RefitEpochs = 1, Batch = 8, LearningRate = 3e-3,
    };

    protected override FittedDetector Fit(IntegratedOptions options, IReadOnlyList<ILabelledClip> clips, TrainingFrames frames, FitContext context)
    {
        var backgroundFrames = TrainingFrames.Of(options.BackgroundCategory);
        var objectFrames = TrainingFrames.Of(options.ObjectCategory);
        using var background = FrameTensors.Stack(backgroundFrames.Frames(clips), options.Size, options.Size);
        using var withObjects = FrameTensors.Stack(objectFrames.Frames(clips), options.Size, options.Size);
        foreach (var (tensor, wanted) in new[] { (background, backgroundFrames), (withObjects, objectFrames) })
        {
            if (tensor.shape[0] == 0)
            {
                throw new ArgumentException($"the integrated CNN trains on {backgroundFrames} and {objectFrames}; there are no {wanted}");
            }
        }

        var (detector, facts) = IntegratedTrainer.Train(background, withObjects, options, context);
        return new FittedDetector(detector, new Dictionary<string, string>
        {
            ["backgroundFrames"] = background.shape[0].ToString(CultureInfo.InvariantCulture),
            ["normalObjectFrames"] = withObjects.shape[0].ToString(CultureInfo.InvariantCulture),
            ["pseudoLabelThreshold"] = facts.PseudoLabelThreshold.ToString("R", CultureInfo.InvariantCulture),
            ["pseudoLabelledFrames"] = facts.LabelledFrames.ToString(CultureInfo.InvariantCulture),
            ["pseudoLabelInstances"] = facts.Instances.ToString(CultureInfo.InvariantCulture),
        });
    }

    protected override IBundledDetector Load(IntegratedOptions options, byte[] weights, JsonObject? state, string path, Device device)
    {
        var network = new IntegratedNetwork(options.ToNetwork());
        ModuleWeights.Import(network, weights, path, Name);
        return new IntegratedDetector(network, options, device);
    }
}
