using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.AnoSeg;

/// <summary>
/// AnoSeg (Song et al. 2021; seed 004): a segmentation network trained on synthetic anomalies outputs
/// the anomaly map directly. The map is the network's per-pixel anomaly probability (sigmoid of its
/// logits) at the input resolution; the raw score is its densest <see cref="AnoSegOptions.Peak"/>
/// x <see cref="AnoSegOptions.Peak"/> window sum (the map's maximum with a window of 1), so fusion
/// takes it as a peak.
/// </summary>
public sealed class AnoSegDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "anoseg";

    /// <summary>Frames per forward pass.</summary>
    public const int BatchSize = 16;

    private readonly AnoSegNet model;
    private readonly Device device;

    /// <param name="model">The trained network (owned: disposed with the detector).</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where it runs.</param>
    public AnoSegDetector(AnoSegNet model, AnoSegOptions options, Device device)
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
    public AnoSegOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>Anomaly maps [N, S, S] in [0, 1] of float frames <paramref name="batch"/> [N, 3, S, S] in [0, 1] (the caller owns them).</summary>
    public Tensor Maps(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        return model.call(batch.to(device)).sigmoid().squeeze(1).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var size = Options.Size;
        var plane = size * size;
        var results = new List<RawFrameScore>(frames.Count);
        foreach (var chunk in frames.Chunk(BatchSize))
        {
            using var scope = NewDisposeScope();
            var maps = Maps(FrameTensors.ToBatch(chunk, size, size, device)).cpu();
            var scores = AutoencoderDetector.Reduce(maps, Options.Peak).to_type(ScalarType.Float64).data<double>().ToArray();
            var values = maps.data<float>().ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                results.Add(new RawFrameScore(scores[i], new AnomalyMap(size, size, values.AsSpan(i * plane, plane).ToArray()), Reduction: ScoreReduction.Peak));
            }
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    public byte[] ExportWeights() => ModuleWeights.Export(model);

    public JsonObject? ExportState() => null;

    public void Dispose() => model.Dispose();
}
