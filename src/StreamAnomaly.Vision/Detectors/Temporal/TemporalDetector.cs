using System.Text.Json.Nodes;
using System.Text.Json;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Temporal.Network;
using StreamAnomaly.Vision.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.Temporal;

/// <summary>Which background mask the temporal detector applies before scoring.</summary>
public enum TemporalMasking
{
    /// <summary>No mask: every pixel's residual counts.</summary>
    None,

    /// <summary>The R3D-18 Eigen-CAM mask (the paper's method).</summary>
    Learned,

    /// <summary>A supplied static region of interest (the paper's hand-labelled "ideal" mask).</summary>
    Ideal,
}

/// <summary>
/// How the learned background mask is made from R3D-18's activations (the settings the paper ablates;
/// the networks do not depend on them, so they can change without retraining).
/// </summary>
/// <param name="Layers">How many of R3D-18's last conv layers are averaged (1 .. 8).</param>
/// <param name="Threshold">Map values below this become 0, in [0, 1).</param>
/// <param name="Window">Odd moving-average window along time, frames.</param>
public sealed record CamSettings(int Layers, double Threshold, int Window)
{
    /// <summary>Throws <see cref="ArgumentException"/> for settings the mask cannot take.</summary>
    public void Validate()
    {
        if (Layers is < 1 or > R3D18.MaxActivationLayers)
        {
            throw new ArgumentException($"Eigen-CAM layers {Layers} must be in 1 .. {R3D18.MaxActivationLayers}");
        }

        if (Window < 1 || Window % 2 == 0)
        {
            throw new ArgumentException($"Eigen-CAM window {Window} must be odd and positive");
        }

        if (Threshold is < 0 or >= 1 || double.IsNaN(Threshold))
        {
            throw new ArgumentException($"Eigen-CAM threshold {Threshold} must lie in [0, 1)");
        }
    }
}

/// <summary>
/// What weak labelling found out about the machine cycle, kept in the bundle for people and for
/// later labelling: the period and template of d(t) on the reference clip.
/// </summary>
/// <param name="Period">Mean cycle length in frames (at the training frame rate).</param>
/// <param name="Template">One cycle of d(t), grey levels, at the model input size.</param>
/// <param name="Transition">Ramp width T_trans of the smoothed labels actually used, frames.</param>
/// <param name="ReferenceClip">Index (in training order) of the clip whose frame 0 is the reference frame.</param>
public sealed record CycleFacts(double Period, double[] Template, int Transition, int ReferenceClip);

/// <summary>The raw scores of one frame under each masking (Ideal is null without a region of interest).</summary>
public sealed record MaskedScores(RawFrameScore None, RawFrameScore Learned, RawFrameScore? Ideal)
{
    /// <summary>The score under <paramref name="masking"/>.</summary>
    public RawFrameScore? Get(TemporalMasking masking) => masking switch
    {
        TemporalMasking.None => None,
        TemporalMasking.Learned => Learned,
        TemporalMasking.Ideal => Ideal,
        _ => throw new ArgumentOutOfRangeException(nameof(masking), masking, null),
    };
}

/// <summary>
/// The temporal masking detector of the background-masking paper (SEEDS.md section 2, issue 5): a ConvLSTM
/// autoencoder predicts every frame from the frames before it; an R3D-18 trained on partition-order
/// prediction gives per-frame background masks through Eigen-CAM; both the frame and its prediction are
/// multiplied by the mask, and only what the mask keeps is scored.
/// </summary>
/// <remarks>
/// <para>Windows: frame t (t &gt;= T - 1) is predicted from the T - 1 frames [t - T + 1, t - 1] before
/// it, the history the ConvLSTM was trained on (windows of T frames: T - 1 seen, the last one guessed);
/// an earlier frame from all the frames before it. Frame 0 of a sequence has no history and is predicted
/// from itself, so its residual also holds one step of motion. The detector keeps no state between calls:
/// a call scores exactly the frames it is given, so a caller that splits a stream must pass overlapping
/// context (eval scores whole clips; a streaming worker passes each camera's last T frames).</para>
/// <para>Residual of a frame: <c>r = mean_channels (x - x̂)^2</c>, [H, W]. With a mask m in [0, 1]
/// (1 = keep), the paper's fusion multiplies both input and prediction:
/// <c>mean_channels (m x - m x̂)^2 = m^2 r</c>; that is the returned residual map and the raw score is its
/// sum over pixels (or, with <see cref="TemporalOptions.Peak"/> k, its largest sum over a k x k window). Since
/// m &lt;= 1, a masked score never exceeds the unmasked one.</para>
/// <para>Learned masks: the sequence is cut into consecutive chunks of T frames (the last chunk ends at the
/// sequence's end and may overlap the one before; a sequence shorter than T is one chunk), the clip length
/// R3D-18 was trained on. Per frame, Eigen-CAM maps of the last <see cref="TemporalOptions.CamLayers"/> conv layers
/// are averaged and thresholded; the maps of the whole sequence are then averaged along time with
/// <see cref="TemporalOptions.CamWindow"/> (at most the largest odd number &lt;= n for a sequence of n frames) and resized bilinearly to the input size.</para>
/// <para>Ideal mask: the context's region of interest (any resolution; resized with area averaging, so border pixels
/// get fractional weights).</para>
/// </remarks>
public sealed class TemporalDetector : IBundledDetector, IWindowScorer
{
    /// <summary>The registered detector name.</summary>
    public const string Name = "temporal";

    private readonly TemporalNetworks networks;
    private readonly Device device;
    private readonly int batchSize;

    public TemporalDetector(TemporalNetworks networks, TemporalOptions options, CycleFacts cycle, Device device, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cycle);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        DetectorOptionsJson.Validate(options);
        this.networks = networks;
        Options = options;
        Cycle = cycle;
        this.device = device;
        this.batchSize = batchSize;
        networks.to(device);
        networks.eval();
    }

    public string Kind => Name;

    /// <summary>The options it was built with.</summary>
    public TemporalOptions Options { get; }

    DetectorOptions IBundledDetector.Options => Options;

    /// <summary>What weak labelling found about the cycle.</summary>
    public CycleFacts Cycle { get; }

    /// <summary>A frame is predicted from the T - 1 frames before it.</summary>
    public int History => Options.Window;

    /// <summary>The maskings, learned (the paper's method) first.</summary>
    public IReadOnlyList<string> Variants { get; } = [VariantName(TemporalMasking.Learned), VariantName(TemporalMasking.None), VariantName(TemporalMasking.Ideal)];

    /// <summary>The masking's name in tables and in the bundle's calibrations ("none", "learned", "ideal").</summary>
    public static string VariantName(TemporalMasking masking) => masking.ToString().ToLowerInvariant();

    /// <summary>The networks, for training loops and weight export.</summary>
    internal TemporalNetworks Networks => networks;

    public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return Score(frames, learned: true, roi: null).Select(static s => s.Learned).ToArray();
    }

    /// <summary>
    /// The learned-mask score of each window's last frame (every window <see cref="History"/> frames,
    /// e.g. one per camera), equal to <c>ScoreSequence(window)[^1]</c>, with the windows batched: one
    /// autoencoder pass predicting every last frame from the T - 1 frames before it, one R3D-18 pass
    /// for the Eigen-CAM maps, pooled along each window's time as <see cref="ScoreSequence"/> pools it.
    /// </summary>
    public IReadOnlyList<RawFrameScore> ScoreLastFrames(IReadOnlyList<IReadOnlyList<Frame>> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var t = Options.Window;
        if (windows.FirstOrDefault(w => w.Count != t) is { } odd)
        {
            throw new ArgumentException($"every window must hold {t} frames, got {odd.Count}", nameof(windows));
        }

        if (windows.Count == 0)
        {
            return [];
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        networks.eval();
        var cam = Options.Cam;
        var parts = new List<RawFrameScore>(windows.Count);
        for (var start = 0; start < windows.Count; start += batchSize)
        {
            using var batchScope = NewDisposeScope();
            var group = windows.Skip(start).Take(batchSize).ToArray();
            var clips = stack(group.Select(w => FrameTensors.ToBatch(w, Options.Size, Options.Size, device)).ToArray(), 0);  // [B, T, 3, S, S]
            var predicted = networks.Autoencoder.call(clips.narrow(1, 0, t - 1).contiguous()).select(1, t - 2);          // [B, 3, S, S]
            var residual = (clips.select(1, t - 1) - predicted).square().mean([1]);                                      // [B, S, S]

            var (logits, activations) = networks.Masker.ForwardWithActivations(clips, cam.Layers);
            logits.Dispose();
            var maps = EigenCam.Combine(activations.Select(EigenCam.FrameMaps).ToArray()[^cam.Layers..]);                // [B, T, h, w]
            var poolWindow = Math.Min(cam.Window, t % 2 == 1 ? t : t - 1);
            var pooled = EigenCam.TemporalPool(EigenCam.Threshold(maps, cam.Threshold), poolWindow).select(1, t - 1);   // [B, h, w]
            var mask = interpolate(pooled.unsqueeze(1), size: [Options.Size, Options.Size], mode: InterpolationMode.Bilinear, align_corners: false)
                .squeeze(1).clamp(HeldScalars.Zero, HeldScalars.One);
            parts.AddRange(Results(residual * mask.square(), mask));
        }

        return parts;
    }

    /// <summary>Learned, none and (with the context's region of interest) ideal masking, from one pass.</summary>
    public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(context);
        var scores = Score(frames, learned: true, context.RegionOfInterest);
        return
        [
            scores.Select(static s => s.Learned).ToArray(),
            scores.Select(static s => s.None).ToArray(),
            context.RegionOfInterest is null ? null : scores.Select(static s => s.Ideal!).ToArray(),
        ];
    }

    /// <summary>
    /// Scores consecutive frames under every masking at once (one autoencoder pass, one mask pass):
    /// Ideal only when <paramref name="roi"/> is given.
    /// </summary>
    public IReadOnlyList<MaskedScores> ScoreAll(IReadOnlyList<Frame> frames, BinaryMask? roi)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return Score(frames, learned: true, roi);
    }

    /// <summary>
    /// Scores consecutive frames under the learned mask made with each of several Eigen-CAM settings
    /// (the paper's ablations, without retraining): one autoencoder pass and one R3D-18 pass (with the
    /// activations of the most layers any setting asks for); only the Eigen-CAM maps are combined,
    /// thresholded, pooled and resized per setting. Result [setting][frame]; with the detector's own
    /// <see cref="TemporalOptions.Cam"/> the scores are those of <see cref="ScoreAll"/>'s learned masking.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<RawFrameScore>> ScoreLearnedVariants(IReadOnlyList<Frame> frames, IReadOnlyList<CamSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Count == 0)
        {
            throw new ArgumentException("at least one Eigen-CAM setting is needed", nameof(settings));
        }

        foreach (var setting in settings)
        {
            ArgumentNullException.ThrowIfNull(setting, nameof(settings));
            setting.Validate();
        }

        if (frames.Count == 0)
        {
            return settings.Select(_ => (IReadOnlyList<RawFrameScore>)[]).ToArray();
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (input, residual) = InputAndResidual(frames);
        return LearnedMaskTensors(input, settings)
            .Select(mask => (IReadOnlyList<RawFrameScore>)Results(residual * mask.square(), mask))
            .ToArray();
    }

    /// <summary>Learned masks [n, S, S] in [0, 1] for consecutive frames (1 = keep), on the CPU as floats, row-major per frame.</summary>
    public float[][] LearnedMasks(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = FrameTensors.ToBatch(frames, Options.Size, Options.Size, device);
        var masks = LearnedMaskTensor(input).cpu();
        var plane = Options.Size * Options.Size;
        var values = masks.data<float>().ToArray();
        return Enumerable.Range(0, frames.Count).Select(i => values.AsSpan(i * plane, plane).ToArray()).ToArray();
    }

    private MaskedScores[] Score(IReadOnlyList<Frame> frames, bool learned, BinaryMask? roi)
    {
        if (frames.Count == 0)
        {
            return [];
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (input, residual) = InputAndResidual(frames);
        var none = Results(residual, null);
        var learnedMask = learned ? LearnedMaskTensor(input) : null;
        var learnedScores = learnedMask is null ? null : Results(residual * learnedMask.square(), learnedMask);
        var roiMask = roi is null ? null : RoiTensor(roi).unsqueeze(0);
        var idealScores = roiMask is null ? null : Results(residual * roiMask.square(), roiMask.expand(residual.shape));
        return Enumerable.Range(0, frames.Count)
            .Select(i => new MaskedScores(none[i], learnedScores?[i] ?? none[i], idealScores?[i]))
            .ToArray();
    }

    /// <summary>The frames as a batch [n, 3, S, S] and their prediction residual [n, S, S] (in the caller's dispose scope, without gradients).</summary>
    private (Tensor Input, Tensor Residual) InputAndResidual(IReadOnlyList<Frame> frames)
    {
        networks.eval();
        var input = FrameTensors.ToBatch(frames, Options.Size, Options.Size, device);
        return (input, (input - Predict(input)).square().mean([1]));
    }

    /// <summary>Per-frame prediction [n, 3, S, S], each frame from the (up to) T - 1 frames before it (see the remarks).</summary>
    private Tensor Predict(Tensor input)
    {
        // history[i] is the frame before frame i (frame 0 stands in for its own missing predecessor), so
        // the autoencoder's step i over history predicts frame i.
        var n = input.shape[0];
        var history = cat([input.narrow(0, 0, 1), input.narrow(0, 0, n - 1)], 0);
        var length = Options.Window - 1;
        var autoencoder = networks.Autoencoder;
        if (n <= length)
        {
            return autoencoder.call(history.unsqueeze(0)).squeeze(0);
        }

        // windows[w] = history w .. w + T - 2, for w = 0 .. n - T + 1; its last step predicts frame w + T - 2.
        var windows = history.unfold(0, length, 1).permute(0, 4, 1, 2, 3);            // [n - T + 2, T - 1, 3, S, S]
        var parts = new List<Tensor>();
        for (long start = 0; start < windows.shape[0]; start += batchSize)
        {
            var count = Math.Min(batchSize, windows.shape[0] - start);
            var output = autoencoder.call(windows.narrow(0, start, count).contiguous());
            if (start == 0)
            {
                parts.Add(output.select(0, 0).narrow(0, 0, length - 1));                // frames 0 .. T - 3 from window 0
            }

            parts.Add(output.select(1, length - 1));                                    // frame w + T - 2 from window w
        }

        return cat(parts, 0);
    }

    /// <summary>Learned masks [n, S, S] with the detector's own Eigen-CAM settings (see the remarks).</summary>
    private Tensor LearnedMaskTensor(Tensor input) => LearnedMaskTensors(input, [Options.Cam])[0];

    /// <summary>
    /// Learned masks [n, S, S], one per setting (see the remarks): R3D-18 runs once with the activations of
    /// the most layers any setting needs; each layer's Eigen-CAM maps are computed once; a setting of k layers
    /// averages the LAST k of them (the list runs from the earliest layer to the network's final one, as
    /// <see cref="R3D18.ForwardWithActivations"/> returns it), then is thresholded, pooled and resized.
    /// </summary>
    private Tensor[] LearnedMaskTensors(Tensor input, IReadOnlyList<CamSettings> settings)
    {
        var n = input.shape[0];
        var window = (int)Math.Min(Options.Window, n);
        var starts = new List<long>();
        for (long s = 0; s < n; s += window)
        {
            starts.Add(Math.Min(s, n - window));
        }

        var most = settings.Max(s => s.Layers);
        var layerCounts = settings.Select(s => s.Layers).Distinct().ToArray();
        var perFrame = layerCounts.ToDictionary(k => k, _ => new Tensor?[n]);            // combined maps [h, w] per layer count and frame
        for (var b = 0; b < starts.Count; b += batchSize)
        {
            var group = starts.Skip(b).Take(batchSize).ToArray();
            var clips = stack(group.Select(s => input.narrow(0, s, window)).ToArray(), 0); // [B, T, 3, S, S]
            var (logits, activations) = networks.Masker.ForwardWithActivations(clips, most);
            logits.Dispose();
            var layerMaps = activations.Select(EigenCam.FrameMaps).ToArray();              // [B, T, h_i, w_i] per layer, earliest first
            foreach (var layers in layerCounts)
            {
                var maps = EigenCam.Combine(layerMaps[^layers..]);                          // [B, T, h, w]
                for (var i = 0; i < group.Length; i++)
                {
                    for (var t = 0; t < window; t++)
                    {
                        perFrame[layers][group[i] + t] = maps[i, t];
                    }
                }
            }
        }

        var size = Options.Size;
        var sequences = layerCounts.ToDictionary(k => k, k => stack(perFrame[k].Select(m => m!).ToArray(), 0).unsqueeze(0)); // [1, n, h, w]
        return settings.Select(setting =>
        {
            var poolWindow = (int)Math.Min(setting.Window, n % 2 == 1 ? n : n - 1);    // libtorch wants window <= n
            var pooled = EigenCam.TemporalPool(EigenCam.Threshold(sequences[setting.Layers], setting.Threshold), poolWindow).squeeze(0); // [n, h, w]
            var resized = interpolate(pooled.unsqueeze(1), size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
            return resized.squeeze(1).clamp(HeldScalars.Zero, HeldScalars.One);
        }).ToArray();
    }

    /// <summary>The region of interest as a float mask [S, S] in [0, 1] (area-averaged to the input size).</summary>
    private Tensor RoiTensor(BinaryMask roi)
    {
        var values = roi.Data.Select(v => v ? 1f : 0f).ToArray();
        var mask = tensor(values, [1, 1, roi.Height, roi.Width]).to(device);
        var size = Options.Size;
        if (roi.Width == size && roi.Height == size)
        {
            return mask.reshape(size, size);
        }

        return interpolate(mask, size: [size, size], mode: InterpolationMode.Area).reshape(size, size).clamp(HeldScalars.Zero, HeldScalars.One);
    }

    /// <summary>Scores and maps of masked residuals [n, S, S]; <paramref name="keep"/> ([n, S, S], 1 = keep) gives the ignored pixels (keep &lt; 0.5).</summary>
    private RawFrameScore[] Results(Tensor residual, Tensor? keep)
    {
        var cpu = residual.cpu();
        var scores = AutoencoderDetector.Reduce(cpu, Options.Peak).to_type(ScalarType.Float64).data<double>().ToArray();
        var maps = cpu.data<float>().ToArray();
        var kept = keep?.cpu().data<float>().ToArray();
        var size = Options.Size;
        var plane = size * size;
        return Enumerable.Range(0, scores.Length)
            .Select(i => new RawFrameScore(
                scores[i],
                new AnomalyMap(size, size, maps.AsSpan(i * plane, plane).ToArray()),
                kept is null ? null : new BinaryMask(size, size, kept.AsSpan(i * plane, plane).ToArray().Select(static v => v < 0.5f).ToArray()),
                Reduction: Options.Peak > 0 ? ScoreReduction.Peak : ScoreReduction.Sum))
            .ToArray();
    }

    /// <summary>Both networks' parameters, one TorchSharp state dict (keys autoencoder.* and masker.*).</summary>
    public byte[] ExportWeights() => ModuleWeights.Export(networks);

    public JsonObject? ExportState() => JsonSerializer.SerializeToNode(Cycle, StateJson)!.AsObject();

    /// <summary>The cycle facts a bundle's state holds; <see cref="InvalidDataFileException"/> naming <paramref name="path"/> when they are missing or malformed.</summary>
    public static CycleFacts ReadState(JsonObject? state, string path)
    {
        try
        {
            return state?.Deserialize<CycleFacts>(StateJson) is { Template: not null } cycle && cycle.Period > 0
                ? cycle
                : throw new InvalidDataFileException(path, "corrupted model bundle (the temporal detector's cycle facts are missing)");
        }
        catch (JsonException e)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (cycle facts: {e.Message})", e);
        }
    }

    private static readonly JsonSerializerOptions StateJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, RespectNullableAnnotations = true };

    /// <summary>Fresh (untrained) networks for <paramref name="options"/>.</summary>
    public static TemporalNetworks Build(TemporalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        DetectorOptionsJson.Validate(options);
        return new TemporalNetworks(
            new ConvLstmAutoencoder(options.Size, options.AutoencoderWidth, options.AutoencoderHidden, options.AutoencoderCode),
            new R3D18(options.Partitions, options.MaskWidthDivisor, imagenet: options.PretrainedMask));
    }

    public void Dispose() => networks.Dispose();
}
