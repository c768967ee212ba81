namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// A decided frame as a line aggregator's journal keeps it: all <see cref="LineAggregation"/>
/// needs to redo the decision's effect on its state (deduplication, frame numbers, smoothing,
/// debouncing, the alarm) when it recovers on another node.
/// </summary>
/// <param name="Frame">Camera and sequence.</param>
/// <param name="CaptureTime">When the frame was taken.</param>
/// <param name="Score">Its fused normalised score.</param>
public sealed record LineDecision(FrameKey Frame, DateTimeOffset CaptureTime, double Score)
{
    /// <summary>The decision of a fused frame.</summary>
    public static LineDecision Of(FusedFrame fused)
    {
        ArgumentNullException.ThrowIfNull(fused);
        return new LineDecision(fused.Frame, fused.CaptureTime, fused.Score);
    }
}

/// <summary>
/// Everything <see cref="LineAggregation"/> remembers between frames, as plain data: what a line
/// aggregator saves so it need not replay its whole journal. Frames still waiting for partial
/// results are not in it: they were never acknowledged, so their workers send them again.
/// </summary>
/// <param name="Cameras">Per camera, sorted by id.</param>
/// <param name="Alarm">The active alarm's latest event, or null.</param>
/// <param name="AlarmPeak">The active alarm's peak smoothed score (0 without an alarm).</param>
/// <param name="LastWarm">Capture time of the line's last frame at or above the clear threshold.</param>
public sealed record LineSnapshot(IReadOnlyList<CameraSnapshot> Cameras, AlarmEvent? Alarm, double AlarmPeak, DateTimeOffset LastWarm);

/// <summary>One camera's part of a <see cref="LineSnapshot"/>.</summary>
/// <param name="Camera">Camera id.</param>
/// <param name="Floor">Sequence numbers at or below this count as decided (<see cref="SequenceDeduplicator"/>).</param>
/// <param name="Window">The decided sequence numbers above the floor, ascending.</param>
/// <param name="Highest">The highest decided sequence number.</param>
/// <param name="HighestCapture">Its capture time.</param>
/// <param name="Smoothed">The camera's smoothed score.</param>
/// <param name="Recent">The debouncer's latest frames, oldest first: whether each was hot, and its capture time.</param>
public sealed record CameraSnapshot(
    string Camera,
    long Floor,
    IReadOnlyList<long> Window,
    long Highest,
    DateTimeOffset HighestCapture,
    double Smoothed,
    IReadOnlyList<RecentFrame> Recent);

/// <summary>One frame in a camera's debouncing window.</summary>
public readonly record struct RecentFrame(bool Hot, DateTimeOffset At);
