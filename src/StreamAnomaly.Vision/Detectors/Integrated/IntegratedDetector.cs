using System.Text.Json.Nodes;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Integrated;

/// <summary>
/// How the integrated CNN turns its two outputs into a frame score (paper 1, eq. 4-5). With M = 1
/// outside detected normal objects and 0 on them (optionally dilated by <paramref name="Dilation"/>
/// pixels), E the squared residual averaged over channels:
/// <c>raw = sum(E * M) - Bias * sum(E * (1 - M))</c>, floored at 0. The "biased loss" is read as
/// a bias proportional to the loss inside the mask region that lowers the score of frames whose
/// normal object is large (its edges leak residual past the mask); it also lowers scores of
/// abnormal objects near a normal one, the trade-off the paper's table shows.
/// </summary>
/// <param name="Name">Variant name shown in tables.</param>
/// <param name="UseMask">False scores the plain autoencoder residual (M = 1 everywhere).</param>
/// <param name="Dilation">Pixels by which the normal-object mask grows before masking.</param>
/// <param name="Bias">Weight of the in-mask residual subtracted from the score.</param>
public sealed record IntegratedScoring(string Name, bool UseMask = true, int Dilation = 0, double Bias = 0)
{
    /// <summary>The rows of the paper's Table 5, default (integrated CNN) first.</summary>
    public static IReadOnlyList<IntegratedScoring> Table5 { get; } =
    [
        new("integrated"),
        new("autoencoder", UseMask: false),
        new("+dilation 3", Dilation: 3),
        new("+dilation 5", Dilation: 5),
        new("+biased loss", Bias: 0.5),
    ];

    /// <summary>
    /// Applies the variant to squared residuals [N, H, W] and a normal-object mask [N, 1, H, W]
    /// (1 on objects): returns the raw scores [N] and the masked residual maps [N, H, W]. The
    /// masked residual is reduced as <see cref="AutoencoderDetector.Reduce"/> does (sum, or the
    /// peak <paramref name="peak"/> x <paramref name="peak"/> window). The mask grows by at least
    /// <paramref name="minimumDilation"/> pixels (the in-filled region, which is never scored).
    /// </summary>
    public (Tensor Raw, Tensor Map) Apply(Tensor residual, Tensor objects, int peak = 0, int minimumDilation = 0)
    {
        ArgumentNullException.ThrowIfNull(residual);
        ArgumentNullException.ThrowIfNull(objects);
        using var scope = NewDisposeScope();
        Tensor inside;
        if (!UseMask)
        {
            inside = zeros_like(residual);
        }
        else if (Math.Max(Dilation, minimumDilation) is var dilation and > 0)
        {
            inside = nn.functional.max_pool2d(objects, (2 * dilation) + 1, stride: 1, padding: dilation).squeeze(1);
        }
        else
        {
            inside = objects.squeeze(1);
        }

        // Tensor-only arithmetic and explicitly held Scalars: TorchSharp 0.107 lets the finalizer
        // free an implicitly converted Scalar while its native call still reads it.
        var outside = where(inside.to_type(ScalarType.Bool), zeros_like(residual), residual);
        var raw = AutoencoderDetector.Reduce(outside, peak);
        if (Bias > 0)
        {
            using var bias = Bias.ToScalar();
            raw = (raw - (residual * inside).sum([1, 2]).mul(bias)).relu();
        }

        return (raw.MoveToOuterDisposeScope(), outside.MoveToOuterDisposeScope());
    }
}

/// <summary>
/// Detector around <see cref="IntegratedNetwork"/>: one forward pass gives the reconstruction and
/// the normal-object instances; normal objects are masked out of the residual before scoring.
/// </summary>
public sealed class IntegratedDetector : IBundledDetector
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "integrated";

    private readonly Device device;
    private readonly int batchSize;

    /// <summary>Pixels by which detected normal objects grow before they are in-filled (<see cref="InfillPasses"/>).</summary>
    public const int InfillMargin = 3;

    /// <summary>A detector over a trained <paramref name="network"/> (owned: disposed with the detector) of <paramref name="options"/>' shape.</summary>
    public IntegratedDetector(IntegratedNetwork network, IntegratedOptions options, Device device, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        DetectorOptionsJson.Validate(options);
        if (network.Options.InputWidth != options.Size || network.Options.InputHeight != options.Size)
        {
            throw new ArgumentException($"the network takes {network.Options.InputWidth}x{network.Options.InputHeight} px, the options {options.Size} px", nameof(options));
        }

        Network = network;
        Options = options;
        Detection = options.Detection;
        this.device = device;
        this.batchSize = batchSize;
        network.to(device);
        network.eval();
    }

    /// <summary>A detector over <paramref name="network"/> with the scoring given here (tests and research).</summary>
    public IntegratedDetector(IntegratedNetwork network, Device device, PostprocessOptions? detection = null, int batchSize = 16, int peak = 0, bool scaled = false, int infillPasses = 0)
        : this(network, Describe(network, peak, scaled, infillPasses), device, batchSize)
    {
        Detection = detection ?? Detection;
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public IntegratedOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    public int History => 1;

    public IReadOnlyList<string> Variants { get; } = IntegratedScoring.Table5.Select(v => v.Name).ToArray();

    /// <summary>The network (trainers and the benchmark use it directly).</summary>
    public IntegratedNetwork Network { get; }

    /// <summary>Score reduction: 0 = the paper's sum over pixels; k = the peak k x k residual window.</summary>
    public int Peak => Options.Peak;

    /// <summary>
    /// Score the residual divided by the network's <see cref="IntegratedNetwork.ResidualScale"/> (how
    /// many times its normal size each pixel's residual is) instead of the paper's raw squared residual:
    /// parts of the scene that are never reconstructed well (a moving arm) then no longer drown a
    /// small foreign object in the frame score.
    /// </summary>
    public bool Scaled => Options.Scaled;

    /// <summary>
    /// In-filling of normal objects before reconstruction (0 = off, the paper). The fully-connected
    /// bottleneck codes the whole frame, so a hand it never saw shifts the code and the decoder
    /// rebuilds the whole scene worse, not only the hand: masking the residual cannot remove that.
    /// With k passes the detected objects (grown by <see cref="InfillMargin"/> pixels) are replaced
    /// by the reconstruction and the frame is reconstructed again, k times; the masked variants score
    /// the original frame against the last reconstruction, their masks grown by at least
    /// <see cref="InfillMargin"/> (the in-filled pixels are not scored). The plain autoencoder row does not in-fill.
    /// </summary>
    public int InfillPasses => Options.Infill;

    /// <summary>Post-processing of the segmentation head (score threshold of a normal object, NMS).</summary>
    public PostprocessOptions Detection { get; }

    private int InputWidth => Network.Options.InputWidth;

    private int InputHeight => Network.Options.InputHeight;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames) => ScoreVariants(frames, [IntegratedScoring.Table5[0]])[0];

    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => ScoreVariants(frames);

    /// <summary>Scores <paramref name="frames"/> under every row of the paper's Table 5, in <see cref="Variants"/> order.</summary>
    public IReadOnlyList<IReadOnlyList<RawFrameScore>> ScoreVariants(IReadOnlyList<Frame> frames) => ScoreVariants(frames, IntegratedScoring.Table5);

    /// <summary>
    /// Scores <paramref name="frames"/> once per scoring variant, with one forward pass per batch.
    /// With <paramref name="knownObjects"/> (one mask per frame, any size) those masks replace the
    /// segmentation head's normal objects: given the true masks, the scores show what the scoring
    /// itself can reach with a perfect head.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<RawFrameScore>> ScoreVariants(IReadOnlyList<Frame> frames, IReadOnlyList<IntegratedScoring> variants, IReadOnlyList<BinaryMask>? knownObjects = null)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(variants);
        if (knownObjects is not null && knownObjects.Count != frames.Count)
        {
            throw new ArgumentException($"{knownObjects.Count} normal-object masks for {frames.Count} frames", nameof(knownObjects));
        }

        var results = variants.Select(_ => new List<RawFrameScore>(frames.Count)).ToArray();
        var (h, w) = (InputHeight, InputWidth);
        Network.eval();
        for (var start = 0; start < frames.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, frames.Count - start);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var batch = FrameTensors.ToBatch(frames.Skip(start).Take(count).ToArray(), w, h, device);
            using var output = Network.call(batch);
            var residual = Residual(batch, output.Reconstruction);
            var objects = knownObjects is null ? NormalObjectMask(output, count) : MaskBatch(knownObjects.Skip(start).Take(count));
            var maskedResidual = InfillPasses > 0 && objects.any().item<bool>() ? Residual(batch, Infill(Network.Reconstruct, batch, output.Reconstruction, objects, InfillPasses, InfillMargin)) : residual;
            var objectPixels = objects.cpu().data<float>().ToArray();
            var ignored = Enumerable.Range(0, count)
                .Select(i => new BinaryMask(w, h, objectPixels.AsSpan(i * w * h, w * h).ToArray().Select(static v => v > 0.5f).ToArray()))
                .ToArray();
            for (var v = 0; v < variants.Count; v++)
            {
                var (scores, maps) = Score(variants[v].UseMask ? maskedResidual : residual, objects, variants[v], Peak, InfillPasses > 0 ? InfillMargin : 0);
                for (var i = 0; i < count; i++)
                {
                    var map = new AnomalyMap(w, h, maps.AsSpan(i * w * h, w * h).ToArray());
                    results[v].Add(new RawFrameScore(scores[i], map, variants[v].UseMask ? ignored[i] : null, Reduction: Peak > 0 ? ScoreReduction.Peak : ScoreReduction.Sum));
                }
            }
        }

        return results;
    }

    /// <summary>The squared residual [N, H, W], divided by the residual scale when <see cref="Scaled"/>.</summary>
    private Tensor Residual(Tensor input, Tensor reconstruction)
    {
        var residual = AutoencoderDetector.Residual(input, reconstruction);
        return Scaled ? residual / Network.ResidualScale : residual;
    }

    /// <summary>
    /// <paramref name="passes"/> times: the <paramref name="objects"/> [N, 1, H, W] (grown by
    /// <paramref name="margin"/> pixels) of <paramref name="input"/> are replaced by the last
    /// reconstruction, and <paramref name="reconstruct"/> makes the next one from that in-filled frame.
    /// Returns the last reconstruction.
    /// </summary>
    internal static Tensor Infill(Func<Tensor, Tensor> reconstruct, Tensor input, Tensor reconstruction, Tensor objects, int passes, int margin)
    {
        using var scope = NewDisposeScope();
        var region = nn.functional.max_pool2d(objects, (2 * margin) + 1, stride: 1, padding: margin);
        var current = reconstruction;
        for (var pass = 0; pass < passes; pass++)
        {
            current = reconstruct(input.lerp(current, region));
        }

        return current.MoveToOuterDisposeScope();
    }

    /// <summary>The union of every detected normal object per image: [N, 1, H, W], 1 on objects.</summary>
    public Tensor NormalObjectMask(IntegratedOutput output, int count)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (h, w) = (InputHeight, InputWidth);
        using var priors = Network.CreatePriors().to(output.ClassLogits.device);
        var detections = SegmentationPostprocessor.Process(output.Segmentation, priors, h, w, Detection);
        var union = new float[count * h * w];
        for (var i = 0; i < count; i++)
        {
            foreach (var detection in detections[i])
            {
                var data = detection.Mask.Data;
                for (var p = 0; p < data.Length; p++)
                {
                    if (data[p])
                    {
                        union[(i * h * w) + p] = 1f;
                    }
                }
            }
        }

        return tensor(union, [count, 1, h, w]).to(device);
    }

    /// <summary>Masks resized to the input: [N, 1, H, W], 1 on objects.</summary>
    private Tensor MaskBatch(IEnumerable<BinaryMask> masks)
    {
        var (h, w) = (InputHeight, InputWidth);
        var resized = masks.Select(m => m.Width == w && m.Height == h ? m : m.Resized(w, h)).ToArray();
        var pixels = resized.SelectMany(static m => m.Data.Select(static v => v ? 1f : 0f)).ToArray();
        return tensor(pixels, [resized.Length, 1, h, w]).to(device);
    }

    /// <summary>Raw scores and masked residual maps (CPU arrays) of one variant.</summary>
    private static (double[] Scores, float[] Maps) Score(Tensor residual, Tensor objects, IntegratedScoring variant, int peak, int minimumDilation)
    {
        using var scope = NewDisposeScope();
        var (raw, map) = variant.Apply(residual, objects, peak, minimumDilation);
        return (raw.cpu().to_type(ScalarType.Float64).data<double>().ToArray(), map.cpu().data<float>().ToArray());
    }

    public byte[] ExportWeights() => ModuleWeights.Export(Network);

    public JsonObject? ExportState() => null;

    private static IntegratedOptions Describe(IntegratedNetwork network, int peak, bool scaled, int infillPasses)
    {
        ArgumentNullException.ThrowIfNull(network);
        return IntegratedOptions.Describing(network.Options) with { Peak = peak, Scaled = scaled, Infill = infillPasses };
    }

    public void Dispose() => Network.Dispose();
}
