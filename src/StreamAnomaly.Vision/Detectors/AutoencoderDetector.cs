using System.Globalization;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>
/// Hyper-parameters of the autoencoder baseline.
/// </summary>
/// <param name="InputSize">Side of the square model input in pixels (multiple of 16).</param>
/// <param name="Width">Channels of the first convolution (the widest is 4x this).</param>
/// <param name="Code">Floats in the fully-connected bottleneck (512 = 2 KB).</param>
/// <param name="Peak">
/// Score reduction: 0 = the papers' sum of the residual over all pixels; k &gt; 0 = the largest
/// mean residual over any k x k window, times k^2 (a local anomaly then stands out from the
/// frame-wide reconstruction noise that dominates a whole-frame sum).
/// </param>
public sealed record AutoencoderShape(int InputSize = 128, int Width = 32, int Code = 512, int Peak = 0)
{
    internal Dictionary<string, string> ToParameters() => new()
    {
        ["width"] = Width.ToString(CultureInfo.InvariantCulture),
        ["code"] = Code.ToString(CultureInfo.InvariantCulture),
        ["peak"] = Peak.ToString(CultureInfo.InvariantCulture),
    };

    internal static AutoencoderShape FromManifest(BundleManifest manifest, string path)
    {
        int Read(string key)
        {
            if (!manifest.Parameters.TryGetValue(key, out var text) || !int.TryParse(text, CultureInfo.InvariantCulture, out var value) || value <= 0)
            {
                throw new InvalidDataFileException(path, $"corrupted model bundle (parameter '{key}' missing or not a positive integer)");
            }

            return value;
        }

        var peak = manifest.Parameters.TryGetValue("peak", out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var k) && k >= 0 ? k : 0;
        return new AutoencoderShape(manifest.InputWidth, Read("width"), Read("code"), peak);
    }
}

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

    public AutoencoderDetector(ConvAutoencoder model, AutoencoderShape shape, Device device, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        EnsurePeakFits(shape.Peak, shape.InputSize);
        this.model = model;
        Shape = shape;
        this.device = device;
        this.batchSize = batchSize;
        model.to(device);
        model.eval();
    }

    public string Kind => Name;

    /// <summary>The network's shape.</summary>
    public AutoencoderShape Shape { get; }

    public int InputWidth => Shape.InputSize;

    public int InputHeight => Shape.InputSize;

    /// <summary>The network, for training loops and weight export.</summary>
    internal ConvAutoencoder Model => model;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var size = Shape.InputSize;
        var results = new List<RawFrameScore>(frames.Count);
        model.eval();
        for (var start = 0; start < frames.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, frames.Count - start);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var batch = FrameTensors.ToBatch(Slice(frames, start, count), size, size, device);
            var residual = Residual(batch, model.call(batch)).cpu();
            var scores = Reduce(residual, Shape.Peak).to_type(ScalarType.Float64).data<double>().ToArray();
            var maps = residual.data<float>().ToArray();
            var plane = size * size;
            for (var i = 0; i < count; i++)
            {
                results.Add(new RawFrameScore(scores[i], new AnomalyMap(size, size, maps.AsSpan(i * plane, plane).ToArray())));
            }
        }

        return results;
    }

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

    /// <summary>The network's parameters in TorchSharp's state-dict format.</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(model);

    public IReadOnlyDictionary<string, string> BundleParameters => Shape.ToParameters();

    /// <summary>Rebuilds the detector from a verified bundle.</summary>
    public static AutoencoderDetector FromBundle(ModelBundle bundle, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var shape = AutoencoderShape.FromManifest(bundle.Manifest, path);
        var model = new ConvAutoencoder(shape.InputSize, shape.Width, shape.Code);
        ModuleWeights.Import(model, bundle.Weights, path, Name);

        return new AutoencoderDetector(model, shape, device);
    }

    public void Dispose() => model.Dispose();

    private static IReadOnlyList<Frame> Slice(IReadOnlyList<Frame> frames, int start, int count) =>
        start == 0 && count == frames.Count ? frames : frames.Skip(start).Take(count).ToArray();
}
