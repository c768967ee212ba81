using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Vision.Detectors;

namespace StreamAnomaly.Vision.Streaming;

/// <summary>
/// A bundled detector as a streaming worker uses it (<see cref="IFrameScorer"/>). Frame detectors
/// score the whole cross-camera batch in one call. A detector with history
/// (<see cref="IAnomalyDetector.History"/> &gt; 1) needs each frame's recent past: the scorer keeps a
/// ring of the last <c>History - 1</c> frames per camera and scores every frame at the end of its
/// camera's window (a detector that scores windows in batches, <see cref="IWindowScorer"/>, gets
/// every camera's full window of the batch in one call); a detector that caches per-frame work (<see cref="IFrameCache"/>) first gets
/// the whole cross-camera batch, so that work is batched too. A camera's frames before its window
/// is full (at a camera's start, or a new worker's) are not judged: score 0 and an empty map, with
/// the mask and phase the detector gives them (a temporal detector predicting a frame from one or
/// two before it scored them 0.46-0.73 normalised in a plant test: a false alarm at every start).
/// Residual maps and ignore masks leave as small grids.
/// </summary>
public sealed class DetectorFrameScorer : IFrameScorer
{
    private readonly IAnomalyDetector _detector;
    private readonly int _grid;
    private readonly int _window;
    private readonly Dictionary<string, Queue<Frame>> _rings = new(StringComparer.Ordinal);

    /// <param name="detector">The detector (owned: disposed with this scorer).</param>
    /// <param name="calibration">Its bundle's calibration.</param>
    /// <param name="gridSize">Cells per side of the residual and mask grids sent to aggregators.</param>
    /// <param name="model">Its bundle's model version, when known.</param>
    public DetectorFrameScorer(IAnomalyDetector detector, ScoreCalibration calibration, int gridSize = 16, string? model = null)
    {
        Model = model;
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridSize);
        _detector = detector;
        _grid = gridSize;
        _window = detector.History;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_window, nameof(detector));
        Calibration = calibration;
    }

    /// <summary>Loads a bundle (any detector kind) onto <paramref name="device"/>; with <paramref name="key"/>, only one that key signed.</summary>
    public static DetectorFrameScorer Load(string bundlePath, TorchSharp.torch.Device device, int gridSize = 16, Core.Bundles.BundleKey? key = null)
    {
        var loaded = DetectorCatalog.Load(bundlePath, device, key);
        return new DetectorFrameScorer(loaded.Detector, loaded.Calibration, gridSize, loaded.Manifest.ModelVersion);
    }

    public string Detector => _detector.Kind;

    public ScoreCalibration Calibration { get; }

    public string? Model { get; }

    /// <summary>Frames of history a camera needs before its scores are meaningful (1 for frame detectors).</summary>
    public int Window => _window;

    public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Frame Image)> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return [];
        }

        if (_window > 1 && _detector is IFrameCache cache)
        {
            cache.Cache(batch.Select(static f => f.Image).ToArray());
        }

        IReadOnlyList<RawFrameScore> scores = _window == 1
            ? _detector.ScoreSequence(batch.Select(static f => f.Image).ToArray())
            : ScoreInWindows(batch);
        if (scores.Count != batch.Count)
        {
            throw new InvalidOperationException($"{Detector} returned {scores.Count} scores for {batch.Count} frames");
        }

        return scores.Select(ToVerdict).ToArray();
    }

    public void Dispose() => _detector.Dispose();

    /// <summary>
    /// Each frame at the end of its camera's window (the ring plus the camera's earlier frames of the
    /// batch); the full windows of a detector that batches windows (<see cref="IWindowScorer"/>) in one call.
    /// </summary>
    private RawFrameScore[] ScoreInWindows(IReadOnlyList<(FrameKey Key, Frame Image)> batch)
    {
        var windows = batch.Select(f => NextWindow(f.Key.Camera, f.Image)).ToArray();
        var scores = new RawFrameScore[batch.Count];
        var full = Enumerable.Range(0, batch.Count).Where(i => windows[i].Length == _window).ToArray();
        if (_detector is IWindowScorer batched && full.Length > 0)
        {
            var last = batched.ScoreLastFrames([.. full.Select(i => (IReadOnlyList<Frame>)windows[i])]);
            for (var k = 0; k < full.Length; k++)
            {
                scores[full[k]] = last[k];
            }
        }

        for (var i = 0; i < batch.Count; i++)
        {
            scores[i] ??= _detector.ScoreSequence(windows[i])[^1];
            if (windows[i].Length < _window)
            {
                scores[i] = scores[i] with { RawScore = 0, Residual = new AnomalyMap(scores[i].Residual.Width, scores[i].Residual.Height, new float[scores[i].Residual.Width * scores[i].Residual.Height]) };
            }
        }

        return scores;
    }

    /// <summary>The window that ends at <paramref name="frame"/>: its camera's last History - 1 frames and it; the frame joins the ring.</summary>
    private Frame[] NextWindow(string camera, Frame frame)
    {
        if (!_rings.TryGetValue(camera, out var ring))
        {
            ring = new Queue<Frame>(_window);
            _rings[camera] = ring;
        }

        var window = ring.Append(frame).ToArray();
        ring.Enqueue(frame);
        while (ring.Count > _window - 1)
        {
            ring.Dequeue();
        }

        return window;
    }

    private DetectorVerdict ToVerdict(RawFrameScore score) => Verdict(score, _grid);

    /// <summary>
    /// A detector's score as a worker sends it: the residual map and the ignore mask reduced to
    /// grids of at most <paramref name="gridSize"/> cells per side (the map's own size when smaller).
    /// </summary>
    public static DetectorVerdict Verdict(RawFrameScore score, int gridSize)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridSize);
        var gw = Math.Min(gridSize, score.Residual.Width);
        var gh = Math.Min(gridSize, score.Residual.Height);
        var ignored = score.Ignored is null ? null : MaskGrid.From(score.Ignored, gw, gh);
        return new DetectorVerdict(score.RawScore, ResidualGrid.From(score.Residual, gw, gh), ignored, score.Phase, score.Reduction);
    }
}
