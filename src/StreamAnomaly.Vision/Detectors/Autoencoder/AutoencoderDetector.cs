using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Autoencoder;

/// <summary>
/// The baseline detector of both source papers: a frame's raw score is the sum over pixels of its
/// squared reconstruction residual (averaged over colour channels), the residual map is that
/// per-pixel value at the model's input resolution.
/// </summary>
public sealed class AutoencoderDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "autoencoder";

    private readonly ConvAutoencoder model;
    private readonly Device device;
    private readonly int batchSize;

    public AutoencoderDetector(ConvAutoencoder model, AutoencoderOptions options, Device device, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        DetectorOptionsJson.Validate(options);
        this.model = model;
        Options = options;
        this.device = device;
        this.batchSize = batchSize;
        model.to(device);
        model.eval();
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public AutoencoderOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    public IReadOnlyList<string> Variants { get; } = [Name];

    /// <summary>The network, for training loops and weight export.</summary>
    internal ConvAutoencoder Model => model;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        model.eval();
        return ReconstructionDetector.Score(frames, Options.Size, Options.Peak, batchSize, device, batch => Residual(batch, model.call(batch)));
    }

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

    /// <summary>Throws <see cref="ArgumentException"/> unless a <paramref name="peak"/> window fits an input of <paramref name="inputSize"/> pixels (0 = whole-frame sum).</summary>
    public static void EnsurePeakFits(int peak, int inputSize)
    {
        if (peak < 0 || peak > inputSize)
        {
            throw new ArgumentException($"peak window {peak} must lie in 0 .. {inputSize} (the input size)");
        }
    }

    /// <summary>Frame scores [N] from residual maps [N, H, W]: their sum (peak 0) or the peak k x k window sum.</summary>
    public static Tensor Reduce(Tensor residual, int peak)
    {
        ArgumentNullException.ThrowIfNull(residual);
        if (peak <= 0)
        {
            return residual.sum([1, 2]);
        }

        using var scope = NewDisposeScope();
        using var area = (peak * peak).ToScalar();
        var windows = nn.functional.avg_pool2d(residual.unsqueeze(1), peak, stride: 1).mul(area);
        return windows.flatten(1).max(1).values.MoveToOuterDisposeScope();
    }

    /// <summary>Per-pixel squared residual averaged over channels: [N, 3, H, W] x2 -> [N, H, W].</summary>
    public static Tensor Residual(Tensor input, Tensor reconstruction) => (input - reconstruction).square().mean([1]);

    public byte[] ExportWeights() => ModuleWeights.Export(model);

    public JsonObject? ExportState() => null;

    public void Dispose() => model.Dispose();
}
