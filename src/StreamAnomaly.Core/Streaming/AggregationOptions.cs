namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// How a line aggregator turns fused frame scores into alarms. Scores are normalised (0..1,
/// threshold 0.5). Bound from configuration section "Aggregation".
/// </summary>
/// <param name="JoinTimeout">How long to wait for every detector's partial of a frame before fusing what arrived.</param>
/// <param name="SmoothingAlpha">Per-camera exponential smoothing weight of the newest frame, in (0, 1]; 1 = no smoothing.</param>
/// <param name="RaiseThreshold">A smoothed score at or above it makes a frame "hot".</param>
/// <param name="RaiseHits">k: hot frames needed among the camera's last <paramref name="RaiseWindow"/> frames.</param>
/// <param name="RaiseWindow">n: frames of one camera the k-of-n rule looks at.</param>
/// <param name="MinDuration">The hot episode (first to last hot frame in the window) must last at least this long.</param>
/// <param name="ClearThreshold">Hysteresis: an active alarm clears only after every frame stayed below this for <paramref name="ClearAfter"/>.</param>
/// <param name="ClearAfter">Quiet time (capture time) before an alarm clears.</param>
/// <param name="UpdateDelta">An active alarm is re-published when its peak score grows by at least this much.</param>
/// <param name="DeduplicationWindow">Sequence numbers per camera remembered for deduplication.</param>
/// <param name="SnapshotEvery">The line aggregator saves its state after this many decisions (and then drops the journal before it), so a line recovering on another node replays at most about this many.</param>
public sealed record AggregationOptions(
    TimeSpan JoinTimeout,
    double SmoothingAlpha = 0.6,
    double RaiseThreshold = 0.5,
    int RaiseHits = 3,
    int RaiseWindow = 5,
    TimeSpan MinDuration = default,
    double ClearThreshold = 0.4,
    TimeSpan ClearAfter = default,
    double UpdateDelta = 0.05,
    int DeduplicationWindow = 4096,
    int SnapshotEvery = 1000)
{
    /// <summary>Defaults: 1 s join timeout, 3 of 5 hot frames, clear after 2 s below 0.4.</summary>
    public static AggregationOptions Default { get; } = new(TimeSpan.FromSeconds(1), ClearAfter: TimeSpan.FromSeconds(2));

    /// <summary>Problems, each naming its configuration key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string key, string rule, object value)
        {
            if (!ok)
            {
                errors.Add($"Aggregation:{key} must be {rule}, got {value}");
            }
        }

        Check(JoinTimeout > TimeSpan.Zero, nameof(JoinTimeout), "> 0", JoinTimeout);
        Check(SmoothingAlpha is > 0 and <= 1, nameof(SmoothingAlpha), "in (0, 1]", SmoothingAlpha);
        Check(RaiseThreshold is > 0 and <= 1, nameof(RaiseThreshold), "in (0, 1]", RaiseThreshold);
        Check(RaiseWindow >= 1, nameof(RaiseWindow), ">= 1", RaiseWindow);
        Check(RaiseHits >= 1 && RaiseHits <= RaiseWindow, nameof(RaiseHits), $"in [1, RaiseWindow={RaiseWindow}]", RaiseHits);
        Check(MinDuration >= TimeSpan.Zero, nameof(MinDuration), ">= 0", MinDuration);
        Check(ClearThreshold >= 0 && ClearThreshold <= RaiseThreshold, nameof(ClearThreshold), $"in [0, RaiseThreshold={RaiseThreshold}]", ClearThreshold);
        Check(ClearAfter >= TimeSpan.Zero, nameof(ClearAfter), ">= 0", ClearAfter);
        Check(UpdateDelta > 0, nameof(UpdateDelta), "> 0", UpdateDelta);
        Check(DeduplicationWindow >= 16, nameof(DeduplicationWindow), ">= 16", DeduplicationWindow);
        Check(SnapshotEvery >= 1, nameof(SnapshotEvery), ">= 1", SnapshotEvery);
        return errors;
    }
}
