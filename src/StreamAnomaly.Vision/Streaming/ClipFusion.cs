using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Vision.Streaming;

/// <summary>One detector's scores of every frame of a clip, with the calibration its bundle carries.</summary>
/// <param name="Detector">Detector kind.</param>
/// <param name="Calibration">Its default variant's calibration.</param>
/// <param name="Scores">One score per frame, in order.</param>
public sealed record DetectorScores(string Detector, ScoreCalibration Calibration, IReadOnlyList<RawFrameScore> Scores);

/// <summary>
/// Offline fusion of several detectors' scores of one clip, computed the way a worker and a line
/// aggregator compute it live: each score becomes the verdict a worker sends
/// (<see cref="DetectorFrameScorer.Verdict"/>), the verdicts of a frame are joined as partial
/// results and fused by <see cref="FrameFusion"/>. So <c>eval</c> with several bundles reports
/// what the pipeline decides.
/// </summary>
public static class ClipFusion
{
    /// <summary>The calibration of a score that is already normalised (threshold 0.5, range 0 .. 1): it leaves the score as it is.</summary>
    public static ScoreCalibration Normalised { get; } = new(ScoreCalibration.NormalizedThreshold, 0, 1, 100);

    /// <summary>
    /// Per frame, the fused normalised score (read it with <see cref="Normalised"/>); its map is
    /// the map of the detector that gave the score, scaled from that detector's raw units to the
    /// fused score's; its phase the first detector's that knows one.
    /// </summary>
    /// <param name="detectors">At least one detector, each with one score per frame of the same clip.</param>
    /// <param name="gridSize">Cells per side of the grids, as the workers' <c>Worker:GridSize</c>.</param>
    public static RawFrameScore[] Fuse(IReadOnlyList<DetectorScores> detectors, int gridSize)
    {
        ArgumentNullException.ThrowIfNull(detectors);
        if (detectors.Count == 0)
        {
            throw new ArgumentException("fusion needs at least one detector", nameof(detectors));
        }

        var frames = detectors[0].Scores.Count;
        if (detectors.FirstOrDefault(d => d.Scores.Count != frames) is { } odd)
        {
            throw new ArgumentException($"{odd.Detector} scored {odd.Scores.Count} frames, {detectors[0].Detector} {frames}", nameof(detectors));
        }

        var fused = new RawFrameScore[frames];
        for (var i = 0; i < frames; i++)
        {
            var partials = detectors.Select(d =>
            {
                var v = DetectorFrameScorer.Verdict(d.Scores[i], gridSize);
                return new PartialResult(new FrameKey("offline", i), "offline", DateTimeOffset.UnixEpoch, d.Detector, detectors.Count, v.RawScore, d.Calibration, v.Residual, v.Ignored, v.Phase, v.Reduction);
            }).ToArray();
            var frame = FrameFusion.Fuse(partials, complete: true);
            var winner = detectors[Array.FindIndex(partials, p => ReferenceEquals(p.Residual, frame.Residual))].Scores[i];
            var scale = winner.RawScore > 0 ? (float)(frame.Score / winner.RawScore) : 0f;
            var map = new AnomalyMap(winner.Residual.Width, winner.Residual.Height, winner.Residual.Values.Select(v => v * scale).ToArray());
            fused[i] = new RawFrameScore(frame.Score, map, Phase: detectors.Select(d => d.Scores[i].Phase).FirstOrDefault(static p => p is not null));
        }

        return fused;
    }
}
