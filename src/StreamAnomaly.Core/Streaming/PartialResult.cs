using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// One detector's verdict on one frame, sent by a worker to the frame's line aggregator. Small by
/// design (ids, a score, two byte grids): raw frames never travel between actors.
/// </summary>
/// <param name="Frame">Camera and sequence of the frame.</param>
/// <param name="Line">Production line of the camera.</param>
/// <param name="CaptureTime">When the frame was taken.</param>
/// <param name="Detector">Detector kind, e.g. "autoencoder", "integrated", "temporal".</param>
/// <param name="Detectors">How many detectors score this frame (the aggregator waits for that many partials).</param>
/// <param name="RawScore">The detector's own raw score (already masked by its own mask), &gt;= 0.</param>
/// <param name="Calibration">The detector's calibration from its bundle (raw -> normalised).</param>
/// <param name="Residual">The detector's residual map (after its own mask) as a grid.</param>
/// <param name="Ignored">What the detector explains as normal (hands, background), or null if it masks nothing.</param>
/// <param name="Phase">Where in the machine's cycle the frame is, in [0, 1), from a detector that tracks the cycle; null otherwise.</param>
/// <param name="Reduction">How <paramref name="RawScore"/> sums up <paramref name="Residual"/>, which decides how other detectors' masks change it.</param>
/// <param name="Model">The version of the detector's model (its bundle's), or null when not known.</param>
public sealed record PartialResult(
    FrameKey Frame,
    string Line,
    DateTimeOffset CaptureTime,
    string Detector,
    int Detectors,
    double RawScore,
    ScoreCalibration Calibration,
    ResidualGrid Residual,
    MaskGrid? Ignored,
    double? Phase = null,
    ScoreReduction Reduction = ScoreReduction.Sum,
    string? Model = null);

/// <summary>The fused, calibrated verdict on one frame.</summary>
/// <param name="Frame">Camera and sequence.</param>
/// <param name="Line">Production line.</param>
/// <param name="CaptureTime">When the frame was taken.</param>
/// <param name="Score">Normalised score in [0, 1]; 0.5 is the calibrated threshold.</param>
/// <param name="Detectors">Detectors that contributed, sorted.</param>
/// <param name="Complete">False when the join timed out before every expected detector answered.</param>
/// <param name="Residual">Residual grid of the detector that gave the score (for heatmaps).</param>
/// <param name="Ignored">Union of what the detectors explain as normal, or null when none masks anything.</param>
/// <param name="DetectorScores">Each detector's own normalised score (after the other detectors' masks); null when not known.</param>
/// <param name="Phase">Where in the machine's cycle the frame is, from a detector that tracks it; null otherwise.</param>
/// <param name="Models">Each detector's model version, where known.</param>
public sealed record FusedFrame(
    FrameKey Frame,
    string Line,
    DateTimeOffset CaptureTime,
    double Score,
    string[] Detectors,
    bool Complete,
    ResidualGrid Residual,
    MaskGrid? Ignored,
    IReadOnlyDictionary<string, double>? DetectorScores = null,
    double? Phase = null,
    IReadOnlyDictionary<string, string>? Models = null);

/// <summary>
/// Fuses the partial results of one frame into one normalised score: the papers' masked residual
/// generalised to several detectors. Each detector's residual has already had its own mask applied;
/// here the regions OTHER detectors explain as normal (union of their ignore grids) are removed
/// too, by scaling the detector's raw score with what of its residual lies outside them: for a
/// score that sums the map (<see cref="ScoreReduction.Sum"/>) the share of its total,
/// <c>s_d = raw_d * total(R_d outside U_-d) / total(R_d)</c>; for a score that is the map's peak
/// (<see cref="ScoreReduction.Peak"/>: PatchCore) the highest cell left outside them, each cell
/// weighted by the share of it not covered, <c>s_d = raw_d * peak(R_d outside U_-d) / peak(R_d)</c>
/// (a peak map has a high floor everywhere, so removing a hand's share of the total would hardly
/// move it). With one detector this is exactly its own raw score, so serving matches offline evaluation. Each s_d is normalised with the detector's
/// own calibration; the frame score is the maximum over detectors (any detector may raise).
/// </summary>
public static class FrameFusion
{
    /// <summary>Fuses the partials of one frame (all with the same <see cref="PartialResult.Frame"/>, at least one).</summary>
    public static FusedFrame Fuse(IReadOnlyList<PartialResult> partials, bool complete)
    {
        ArgumentNullException.ThrowIfNull(partials);
        if (partials.Count == 0)
        {
            throw new ArgumentException("fusion needs at least one partial result", nameof(partials));
        }

        var first = partials[0];
        var best = -1.0;
        var residual = first.Residual;
        var scores = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in partials)
        {
            var others = partials.Where(o => !ReferenceEquals(o, p) && o.Ignored is not null).Select(o => o.Ignored!).ToList();
            var raw = p.RawScore;
            if (others.Count > 0)
            {
                var union = others.Aggregate(static (a, b) => a.Union(b));
                var (outside, all) = p.Reduction == ScoreReduction.Peak
                    ? (p.Residual.PeakOutside(union), p.Residual.Peak())
                    : (p.Residual.TotalOutside(union), p.Residual.Total());
                raw = all > 0 ? raw * (outside / all) : raw;
            }

            var score = p.Calibration.Normalize(raw);
            scores[p.Detector] = Math.Max(score, scores.GetValueOrDefault(p.Detector));
            if (score > best)
            {
                best = score;
                residual = p.Residual;
            }
        }

        var detectors = partials.Select(static p => p.Detector).Order(StringComparer.Ordinal).ToArray();
        var masks = partials.Where(static p => p.Ignored is not null).Select(static p => p.Ignored!).ToList();
        var ignored = masks.Count == 0 ? null : masks.Aggregate(static (a, b) => a.Union(b));
        var phase = partials.Select(static p => p.Phase).FirstOrDefault(static p => p is not null);
        var models = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in partials.Where(static p => p.Model is not null))
        {
            models[p.Detector] = p.Model!;
        }

        return new FusedFrame(first.Frame, first.Line, first.CaptureTime, best, detectors, complete, residual, ignored, scores, phase, models);
    }
}
