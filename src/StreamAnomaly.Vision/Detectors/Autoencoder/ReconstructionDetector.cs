using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Autoencoder;

/// <summary>
/// A detector of the autoencoder family (<c>vae</c>, <c>aae</c>, <c>rda</c>): a trained network
/// and the per-pixel residual map it makes of a batch; the raw score reduces that map as the
/// baseline does (<see cref="AutoencoderDetector.Reduce"/>: its sum, or the peak k x k window with
/// <see cref="AutoencoderFamilyOptions.Peak"/>). What differs between the members is how the
/// network was trained and, for the VAE, what the map holds.
/// </summary>
public sealed class ReconstructionDetector : IBundledDetector
{
    private readonly nn.Module network;
    private readonly Func<Tensor, Tensor> residualMap;
    private readonly Device device;
    private readonly int batchSize;

    /// <param name="kind">The catalog name.</param>
    /// <param name="network">The trained network (owned: disposed with the detector; its parameters are the bundle's weights).</param>
    /// <param name="residualMap">A float batch [N, 3, S, S] in [0, 1] on the device to its residual maps [N, S, S] (called under no_grad in a dispose scope).</param>
    /// <param name="options">The options it was built with.</param>
    /// <param name="device">Where it scores.</param>
    /// <param name="batchSize">Frames per forward pass.</param>
    public ReconstructionDetector(string kind, nn.Module network, Func<Tensor, Tensor> residualMap, AutoencoderFamilyOptions options, Device device, int batchSize = 32)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(residualMap);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        DetectorOptionsJson.Validate(options);
        Kind = kind;
        this.network = network;
        this.residualMap = residualMap;
        Options = options;
        this.device = device;
        this.batchSize = batchSize;
        Variants = [kind];
        network.to(device);
        network.eval();
    }

    public string Kind { get; }

    /// <summary>A detector <paramref name="kind"/> of a deterministic <see cref="ConvAutoencoder"/> (owned), scored by the baseline's residual (<see cref="AutoencoderDetector.Residual"/>).</summary>
    public static ReconstructionDetector Of(string kind, ConvAutoencoder model, AutoencoderFamilyOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ReconstructionDetector(kind, model, batch => AutoencoderDetector.Residual(batch, model.call(batch)), options, device);
    }

    /// <summary>The options it was built with.</summary>
    public AutoencoderFamilyOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    public IReadOnlyList<string> Variants { get; }

    /// <summary>The network, for tests.</summary>
    internal nn.Module Network => network;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        network.eval();
        return Score(frames, Options.Size, Options.Peak, batchSize, device, residualMap);
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    public byte[] ExportWeights() => ModuleWeights.Export(network);

    public JsonObject? ExportState() => null;

    public void Dispose() => network.Dispose();

    /// <summary>
    /// Scores <paramref name="frames"/> in batches the way every reconstruction detector does: each
    /// batch resized to <paramref name="size"/> px, its residual maps [N, S, S] from
    /// <paramref name="residualMap"/>, the raw score their sum (<paramref name="peak"/> 0) or their
    /// peak window (<see cref="AutoencoderDetector.Reduce"/>), the map the residual itself.
    /// </summary>
    internal static IReadOnlyList<RawFrameScore> Score(IReadOnlyList<Frame> frames, int size, int peak, int batchSize, Device device, Func<Tensor, Tensor> residualMap)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var results = new List<RawFrameScore>(frames.Count);
        var plane = size * size;
        var reduction = peak > 0 ? ScoreReduction.Peak : ScoreReduction.Sum;
        foreach (var chunk in frames.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var batch = FrameTensors.ToBatch(chunk, size, size, device);
            var residual = residualMap(batch).cpu();
            var scores = AutoencoderDetector.Reduce(residual, peak).to_type(ScalarType.Float64).data<double>().ToArray();
            var maps = residual.data<float>().ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                results.Add(new RawFrameScore(scores[i], new AnomalyMap(size, size, maps.AsSpan(i * plane, plane).ToArray()), Reduction: reduction));
            }
        }

        return results;
    }
}
