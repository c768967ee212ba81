using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Ganomaly;

/// <summary>
/// GANomaly (Akcay, Atapour-Abarghouei and Breckon, ACCV 2018) on single frames: a frame's raw
/// score is the squared distance <c>||z - z^||^2</c> between the latent code of the frame and the
/// code of its reconstruction, as the paper scores. A whole-frame method: the score is not a sum
/// or peak of any map, so its map is uniform (the score everywhere) with
/// <see cref="ScoreReduction.Peak"/>, as <c>lof</c>'s is, and fusion takes its score whole.
/// </summary>
public sealed class GanomalyDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "ganomaly";

    /// <summary>Frames per forward pass when scoring.</summary>
    public const int BatchSize = 32;

    private readonly GanomalyGenerator model;
    private readonly Device device;

    /// <param name="model">The generator (owned: disposed with the detector).</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where it runs.</param>
    internal GanomalyDetector(GanomalyGenerator model, GanomalyOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        this.model = model;
        Options = options;
        this.device = device;
        model.to(device);
        model.eval();
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public GanomalyOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    /// <summary>False: a whole-frame score, its map uniform.</summary>
    public bool Localises => false;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>The generator, for tests and weight export.</summary>
    internal GanomalyGenerator Model => model;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var results = new List<RawFrameScore>(frames.Count);
        foreach (var batch in frames.Chunk(BatchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = FrameTensors.ToBatch(batch, Options.Size, Options.Size, device);
            var scores = model.Score(input).cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            results.AddRange(scores.Select(WholeFrame.Score));
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>The generator's weights (the discriminator only serves training and is not kept).</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(model);

    public JsonObject? ExportState() => null;

    /// <summary>Rebuilds a detector from a bundle's weights; <see cref="Core.Data.InvalidDataFileException"/> naming <paramref name="path"/> when they do not fit the options.</summary>
    public static GanomalyDetector Load(GanomalyOptions options, byte[] weights, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        var model = new GanomalyGenerator(options.Size, options.Width, options.Latent);
        ModuleWeights.Import(model, weights, path, Name);
        return new GanomalyDetector(model, options, device);
    }

    public void Dispose() => model.Dispose();

}
