namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// Which frame numbers a camera can have produced, so that a forged or corrupt sequence number is
/// refused before it reaches the per-camera state of the aggregators (their deduplication floor
/// and loss count). The numbering it relies on: a camera run starts at a clock reading in
/// microseconds since 1970 (<see cref="Micros"/>; the camera actor's first sequence) and adds one
/// per published frame, and a camera publishes at most its configured frames per second. Hence:
/// <list type="number">
/// <item><b>Clock</b> (<see cref="CheckClock"/>, needs no state): the capture time is at most
/// <see cref="MaxClockSkew"/> ahead of the checking node's clock, and the sequence is at most the
/// capture time in microseconds (+ <see cref="RoundingMicros"/>): a run numbers one frame per
/// microsecond at the very most. Example: 9.1e18 is refused, it is the year 290,000.</item>
/// <item><b>Continuity</b> (<see cref="IsPlausibleAdvance"/>, needs the camera's last accepted
/// frame S taken at T): a higher number s captured at t is the same run when
/// <c>s - S &lt;= </c><see cref="MaxAdvance"/><c>(fps, t - T)</c> (twice the frame rate plus
/// <see cref="SlackFrames"/>), or a restart, whose new base is a clock reading taken after T:
/// <c>s &gt;= Micros(T - MaxClockSkew)</c>. Anything in between is refused.</item>
/// </list>
/// A forged number that looks exactly like a restart (the current time in microseconds) cannot be
/// told from one by arithmetic; it passes, but it cannot stall the camera either:
/// <see cref="SequenceDeduplicator"/> only lets its floor rise past numbers it has evicted, and it
/// evicts the lowest first. Only producer authentication on the frames topic stops such forgeries.
/// </summary>
public static class SequenceRange
{
    /// <summary>How far the clocks of two nodes may disagree (capture time vs. the checking node; a camera restarted on another ingest node).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>Frame headers keep the capture time in milliseconds: a run's base read later in that millisecond lies up to 999 µs above it.</summary>
    public const long RoundingMicros = 1_000;

    /// <summary>Frames a run may number beyond twice its frame rate (millisecond rounding of capture times, bursts).</summary>
    public const long SlackFrames = 16;

    /// <summary>Microseconds since 1970-01-01 UTC: the clock a camera run's first sequence number is read from.</summary>
    public static long Micros(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / 10;

    /// <summary>
    /// The stateless rule: null when a frame numbered <paramref name="sequence"/>, captured at
    /// <paramref name="captureTime"/>, can exist at <paramref name="now"/> (the checking node's
    /// clock); else a one-line reason.
    /// </summary>
    public static string? CheckClock(long sequence, DateTimeOffset captureTime, DateTimeOffset now)
    {
        if (captureTime - now > MaxClockSkew)
        {
            return $"capture time {captureTime:O} is more than {MaxClockSkew.TotalSeconds:F0} s ahead of this node's clock ({now:O})";
        }

        var ceiling = Micros(captureTime) + RoundingMicros;
        return sequence > ceiling
            ? $"sequence {sequence} is above {ceiling}, the most a camera can have numbered by its capture time {captureTime:O} (one per microsecond since 1970)"
            : null;
    }

    /// <summary>
    /// Most numbers a run at <paramref name="fps"/> frames per second can advance in
    /// <paramref name="elapsed"/> capture time: <c>ceil(2 * fps * elapsed) + SlackFrames</c>
    /// (just <see cref="SlackFrames"/> when <paramref name="elapsed"/> is not positive).
    /// </summary>
    public static long MaxAdvance(double fps, TimeSpan elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fps);
        var frames = elapsed > TimeSpan.Zero ? Math.Ceiling(2 * fps * elapsed.TotalSeconds) : 0;
        return (long)Math.Min(frames, long.MaxValue / 2) + SlackFrames;
    }

    /// <summary>
    /// The continuity rule (sequences &gt;= 0): true when <paramref name="sequence"/>, captured at
    /// <paramref name="captureTime"/>, can follow the camera's last accepted frame
    /// (<paramref name="lastSequence"/> at <paramref name="lastCaptureTime"/>) in the same run, is
    /// not above it, or can be the start of a restarted run.
    /// </summary>
    public static bool IsPlausibleAdvance(long sequence, DateTimeOffset captureTime, long lastSequence, DateTimeOffset lastCaptureTime, double fps) =>
        sequence <= lastSequence
        || IsSameRun(sequence, captureTime, lastSequence, lastCaptureTime, fps)
        || sequence >= Micros(lastCaptureTime) - (MaxClockSkew.Ticks / 10);

    /// <summary>True when <paramref name="sequence"/> (&gt; <paramref name="lastSequence"/>) is within <see cref="MaxAdvance"/> of the last accepted frame.</summary>
    public static bool IsSameRun(long sequence, DateTimeOffset captureTime, long lastSequence, DateTimeOffset lastCaptureTime, double fps) =>
        sequence - lastSequence <= MaxAdvance(fps, captureTime - lastCaptureTime);
}
