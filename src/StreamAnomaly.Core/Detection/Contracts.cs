using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Detection;

/// <summary>
/// A clip of consecutive frames from one camera, read lazily (a video file, an image folder,
/// a generated sequence). <see cref="ReadFrames"/> may be called more than once; each call
/// starts again at frame 0.
/// </summary>
public interface IClipSource
{
    /// <summary>Name of the clip, unique within its data set (the file or folder name without extension).</summary>
    string Name { get; }

    /// <summary>Frames in order, decoded to BGR.</summary>
    IEnumerable<Frame> ReadFrames();
}

/// <summary>What one detector says about one frame before calibration.</summary>
/// <param name="RawScore">Detector-specific anomaly score, higher is more anomalous, finite and &gt;= 0.</param>
/// <param name="Residual">Per-pixel anomaly map at the detector's input resolution (after the detector's own mask).</param>
/// <param name="Ignored">Pixels the detector explains as normal and masked out (a worker's hand, the background), at the map's resolution; null when it masks nothing.</param>
public sealed record RawFrameScore(double RawScore, AnomalyMap Residual, BinaryMask? Ignored = null);

/// <summary>
/// The detector contract shared by every model (autoencoder, integrated CNN, temporal model):
/// score consecutive frames of ONE camera. Frame detectors score each frame on its own; temporal
/// detectors use the frames before it in the same call. Implementations are not thread-safe.
/// </summary>
public interface IAnomalyDetector : IDisposable
{
    /// <summary>Registered name, e.g. "autoencoder".</summary>
    string Kind { get; }

    /// <summary>
    /// Scores <paramref name="frames"/> (any resolution: the detector resizes to its input) and
    /// returns one score per frame, in order.
    /// </summary>
    IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames);
}

/// <summary>
/// A detector that can score the same frames several ways in one pass: the rows of an ablation
/// table (e.g. no mask, mask, dilated mask). Variant 0 is the default way, the one
/// <see cref="IAnomalyDetector.ScoreSequence"/> uses.
/// </summary>
public interface IVariantScorer
{
    /// <summary>Variant names, default first.</summary>
    IReadOnlyList<string> Variants { get; }

    /// <summary>Scores per variant (outer list, in <see cref="Variants"/> order), one per frame.</summary>
    IReadOnlyList<IReadOnlyList<RawFrameScore>> ScoreVariants(IReadOnlyList<Frame> frames);
}
