namespace StreamAnomaly.Core.Streaming;

/// <summary>Stage of a line alarm's life.</summary>
public enum AlarmPhase
{
    /// <summary>The debounced score crossed the raise rule.</summary>
    Raised,

    /// <summary>Still active; the peak score or the set of cameras changed.</summary>
    Updated,

    /// <summary>The score stayed below the clear threshold long enough.</summary>
    Cleared,
}

/// <summary>
/// One alarm lifecycle event of a production line, as published on the <c>alarms</c> topic.
/// </summary>
/// <param name="Line">Production line id.</param>
/// <param name="AlarmId">Stable id of the alarm: line, camera and sequence of the frame that raised it.</param>
/// <param name="Phase">Raised, updated or cleared.</param>
/// <param name="Revision">0 for Raised, then 1, 2, ... for each later event of the same alarm.</param>
/// <param name="At">Capture time of the frame that caused the event.</param>
/// <param name="PeakScore">Highest smoothed normalised score (0..1) seen during the alarm so far.</param>
/// <param name="Cameras">Cameras that contributed anomalous frames, sorted.</param>
public sealed record AlarmEvent(
    string Line,
    string AlarmId,
    AlarmPhase Phase,
    int Revision,
    DateTimeOffset At,
    double PeakScore,
    string[] Cameras)
{
    /// <summary>The same event published twice has the same key (consumers deduplicate by it; on Kafka the <c>idempotency-key</c> header).</summary>
    public string IdempotencyKey => $"{AlarmId}/{Revision}";
}
