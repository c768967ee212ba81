using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Inr;

/// <summary>
/// Anomaly detection with an implicit neural representation (seed 003): each frame, resized to the
/// <see cref="InrOptions.Size"/> grid, is fitted by its own SIREN f(x, y) -> colour, starting from
/// the learned initialisation and stopped after a fixed budget of <see cref="InrOptions.Steps"/>
/// Adam steps. Normal content (what the initialisation already knows, and smooth changes) is fitted
/// within the budget; foreign content, new edges and high frequencies are fitted later, so the
/// early-stopped residual shows them. The map is the per-pixel squared residual on the grid (mean
/// over channels, [0, 1] colour scale); the raw score reduces it as the autoencoder does (the peak
/// k x k window sum, or the sum over the frame with <see cref="InrOptions.Peak"/> 0). The frames of a
/// batch are fitted together as a batch of SIRENs (batched matrix products).
/// </summary>
public sealed class InrDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "inr";

    /// <summary>Frames fitted in parallel.</summary>
    public const int BatchSize = 16;

    private readonly Siren initialisation;
    private readonly Device device;

    /// <param name="initialisation">The learned initialisation (owned: disposed with the detector); its shape must match the options.</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where frames are fitted.</param>
    public InrDetector(Siren initialisation, InrOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(initialisation);
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        if (initialisation.Hidden != options.Hidden || initialisation.Layers != options.Layers)
        {
            throw new ArgumentException($"the SIREN ({initialisation.Layers} layers of {initialisation.Hidden}) does not match the options ({options.Layers} of {options.Hidden})", nameof(initialisation));
        }

        this.initialisation = initialisation;
        Options = options;
        this.device = device;
        initialisation.to(device);
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public InrOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>The learned initialisation.</summary>
    internal Siren Initialisation => initialisation;

    /// <summary>
    /// The early-stopped residual maps [N, S, S] of float frames <paramref name="batch"/> [N, 3, S, S]
    /// in [0, 1] (the caller owns the result).
    /// </summary>
    public Tensor Residuals(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        using var coordinates = Siren.Grid(Options.Size, device);
        var targets = Siren.Targets(batch.to(device));
        var batched = initialisation.Replicate(batch.shape[0]);
        Siren.Fit(batched, coordinates, targets, Options.Omega, Options.Steps, Options.StepRate);
        return Siren.Residual(batched, coordinates, targets, Options.Omega).view(batch.shape[0], Options.Size, Options.Size).MoveToOuterDisposeScope();
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
            var residual = Residuals(FrameTensors.ToBatch(chunk, size, size, device)).cpu();
            var scores = AutoencoderDetector.Reduce(residual, Options.Peak).to_type(ScalarType.Float64).data<double>().ToArray();
            var maps = residual.data<float>().ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                results.Add(new RawFrameScore(scores[i], new AnomalyMap(size, size, maps.AsSpan(i * plane, plane).ToArray()), Reduction: Options.Peak > 0 ? ScoreReduction.Peak : ScoreReduction.Sum));
            }
        }

        return results;
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>The learned initialisation's weights.</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(initialisation);

    public JsonObject? ExportState() => null;

    public void Dispose() => initialisation.Dispose();
}
