namespace StreamAnomaly.Core.Temporal;

/// <summary>One completed machine cycle of one camera.</summary>
/// <param name="Start">When the cycle began (interpolated between the two frames around the phase wrap).</param>
/// <param name="End">When it ended (the next cycle's start).</param>
/// <param name="PeakScore">The highest timing score seen during the cycle.</param>
/// <param name="PeakPhase">The phase, in [0, 1), at which that score was seen: where the cycle deviated most.</param>
public sealed record CycleRecord(DateTimeOffset Start, DateTimeOffset End, double PeakScore, double PeakPhase)
{
    /// <summary>The cycle time.</summary>
    public TimeSpan Duration => End - Start;
}

/// <summary>
/// Turns one camera's stream of cycle phases into completed cycles. A cycle ends where the phase
/// wraps (falls by more than half a cycle from one frame to the next) after it has passed the middle
/// of the cycle since the last wrap, so a phase that jitters around 0 never counts twice. The part
/// of a cycle before the first wrap is not recorded (its start is unknown). A frame older than the
/// last one observed (a redelivered frame) is ignored. Not thread-safe: one clock per camera.
/// </summary>
public sealed class CycleClock
{
    /// <summary>
    /// The complete cycles of a clip's frames, timed in frames (frame t observed at t seconds after
    /// the epoch, so a duration of 30 s reads 30 frames); frames without a phase are skipped.
    /// </summary>
    public static IReadOnlyList<CycleRecord> OfFrames(IEnumerable<(double? Phase, double Score)> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var clock = new CycleClock();
        return frames
            .Select((f, t) => f.Phase is { } phase ? clock.Observe(DateTimeOffset.UnixEpoch.AddSeconds(t), phase, f.Score) : null)
            .OfType<CycleRecord>()
            .ToArray();
    }

    private DateTimeOffset? _start;
    private (DateTimeOffset Time, double Phase)? _previous;
    private bool _pastMiddle;
    private (double Score, double Phase) _peak = (double.NegativeInfinity, 0);

    /// <summary>
    /// Observes the phase of the next frame and its timing score; returns the cycle this frame
    /// completed, or null.
    /// </summary>
    public CycleRecord? Observe(DateTimeOffset time, double phase, double score)
    {
        if (!(phase >= 0 && phase < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(phase), phase, "a phase is in [0, 1)");
        }

        if (_previous is { } before && time < before.Time)
        {
            return null;
        }

        CycleRecord? completed = null;
        if (_previous is { } previous && _pastMiddle && phase - previous.Phase < -0.5)
        {
            // The wrap happened between the two frames, where the phase (unwrapped) crossed 1.
            var share = (1 - previous.Phase) / (1 - previous.Phase + phase);
            var boundary = previous.Time + ((time - previous.Time) * share);
            if (_start is { } start)
            {
                completed = new CycleRecord(start, boundary, _peak.Score, _peak.Phase);
            }

            (_start, _pastMiddle, _peak) = (boundary, false, (double.NegativeInfinity, 0));
        }

        _pastMiddle |= phase is >= 1 / 3.0 and < 2 / 3.0;
        if (score > _peak.Score)
        {
            _peak = (score, phase);
        }

        _previous = (time, phase);
        return completed;
    }
}
