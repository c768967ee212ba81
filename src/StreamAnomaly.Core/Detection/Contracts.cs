using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Detection;

/// <summary>
/// A clip of consecutive frames from one camera, read lazily (a video file, an image folder,
/// frames in memory). <see cref="ReadFrames"/> may be called more than once; each call starts
/// again at frame 0.
/// </summary>
public interface IClipSource
{
    /// <summary>Name of the clip, unique within its data set (the file or folder name without extension).</summary>
    string Name { get; }

    /// <summary>Frames in order, decoded to BGR.</summary>
    IEnumerable<Frame> ReadFrames();
}

/// <summary>A clip with what a detector may learn from besides its pixels.</summary>
public interface ILabelledClip : IClipSource
{
    /// <summary>One label per frame, in order; null when the clip has no labels (all frames count as normal).</summary>
    IReadOnlyList<FrameLabel>? Labels { get; }

    /// <summary>The clip's static region of interest (true = where the task happens), or null.</summary>
    BinaryMask? ReadRoi();
}

/// <summary>What one detector says about one frame before calibration.</summary>
/// <param name="RawScore">Detector-specific anomaly score, higher is more anomalous, finite and &gt;= 0.</param>
/// <param name="Residual">Per-pixel anomaly map at the detector's input resolution (after the detector's own mask).</param>
/// <param name="Ignored">Pixels the detector explains as normal and masked out (a worker's hand, the background), at the map's resolution; null when it masks nothing.</param>
/// <param name="Phase">Where in the machine's cycle the frame is, in [0, 1), for a detector that tracks the cycle; null otherwise.</param>
/// <param name="Reduction">How <paramref name="RawScore"/> sums up <paramref name="Residual"/> (how fusion takes other detectors' masks into account).</param>
public sealed record RawFrameScore(double RawScore, AnomalyMap Residual, BinaryMask? Ignored = null, double? Phase = null, ScoreReduction Reduction = ScoreReduction.Sum);

/// <summary>
/// How a detector's raw score sums up its anomaly map. Fusion needs it to take out what other
/// detectors explain as normal (<see cref="Streaming.FrameFusion"/>).
/// </summary>
public enum ScoreReduction
{
    /// <summary>The score grows with the map's total (a residual summed over the frame): a mask removes its share of the total.</summary>
    Sum,

    /// <summary>The score is the map's peak (PatchCore's largest patch distance, the densest window): a mask leaves the peak outside it.</summary>
    Peak,
}

/// <summary>What a detector may use besides the frames when it scores them.</summary>
/// <param name="RegionOfInterest">The camera's static region of interest (true = keep), for variants that mask with it.</param>
public sealed record ScoringContext(BinaryMask? RegionOfInterest = null)
{
    /// <summary>Nothing but the frames.</summary>
    public static ScoringContext None { get; } = new();
}

/// <summary>
/// A detector with history that scores many full windows at once (each <see cref="IAnomalyDetector.History"/>
/// frames, e.g. one per camera): the score of each window's last frame, as
/// <c>ScoreSequence(window)[^1]</c> gives it, in one batched pass instead of one pass per window.
/// </summary>
public interface IWindowScorer
{
    /// <summary>One score per window, of its last frame; every window holds exactly History frames.</summary>
    IReadOnlyList<RawFrameScore> ScoreLastFrames(IReadOnlyList<IReadOnlyList<Frame>> windows);
}

/// <summary>
/// A detector with history that remembers what it computed of each frame (its features) for as long
/// as the frame object lives. A streaming caller hands it the new frames of several cameras at once,
/// so they are computed in one batch, before it scores each camera's window.
/// </summary>
public interface IFrameCache
{
    /// <summary>Computes and keeps what the detector needs of the frames it has not seen yet.</summary>
    void Cache(IReadOnlyList<Frame> frames);
}

/// <summary>
/// The detector contract shared by every model: score consecutive frames of ONE camera. A frame's
/// score depends on at most <see cref="History"/> frames ending with it; a detector with a history
/// longer than 1 takes them from the frames before it in the same call, so a caller that splits a
/// stream passes the last <c>History - 1</c> frames again (the streaming scorer does). Scoring
/// variants are the rows of a paper's ablation table, computed from one pass; each has its own
/// calibration. Implementations are not thread-safe.
/// </summary>
public interface IAnomalyDetector : IDisposable
{
    /// <summary>Registered name, e.g. "autoencoder".</summary>
    string Kind { get; }

    /// <summary>Frames a score depends on, the scored frame included: 1 for a frame detector.</summary>
    int History { get; }

    /// <summary>Scoring variant names, default first (never empty).</summary>
    IReadOnlyList<string> Variants { get; }

    /// <summary>
    /// Scores <paramref name="frames"/> (any resolution: the detector resizes to its input) with the
    /// default variant; one score per frame, in order.
    /// </summary>
    IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames);

    /// <summary>
    /// Scores <paramref name="frames"/> under every variant in one pass: entry v (in
    /// <see cref="Variants"/> order) holds one score per frame, or is null when variant v needs what
    /// <paramref name="context"/> does not give (an ideal mask without a region of interest).
    /// Entry 0 is never null and equals <see cref="ScoreSequence"/>.
    /// </summary>
    IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context);
}
