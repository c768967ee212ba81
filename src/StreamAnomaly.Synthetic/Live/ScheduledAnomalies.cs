using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Synthetic.Live;

/// <summary>
/// For demos: injects anomalies into a source at a fixed interval, cycling through the given kinds
/// (every <c>interval</c> on the clock, the next kind in order, wrapping around).
/// </summary>
public static class ScheduledAnomalies
{
    /// <summary>
    /// Waits <paramref name="interval"/>, injects the next kind, and repeats until cancelled (then
    /// throws <see cref="OperationCanceledException"/>). Kinds are checked against the target's
    /// <see cref="IAnomalyInjectable.AnomalyKinds"/> before the first wait.
    /// </summary>
    /// <param name="target">The source to inject into.</param>
    /// <param name="kinds">Anomaly kind names, at least one.</param>
    /// <param name="interval">Time between injections, &gt; 0.</param>
    /// <param name="time">The clock to wait on.</param>
    /// <param name="cancellationToken">Stops the schedule.</param>
    public static async Task RunAsync(IAnomalyInjectable target, IReadOnlyList<string> kinds, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        if (kinds.Count == 0)
        {
            throw new ArgumentException("at least one anomaly kind is needed", nameof(kinds));
        }

        foreach (var kind in kinds)
        {
            if (!target.AnomalyKinds.Contains(kind))
            {
                throw new ArgumentException($"unknown anomaly kind '{kind}'; valid kinds: {string.Join(", ", target.AnomalyKinds)}", nameof(kinds));
            }
        }

        for (var i = 0L; ; i++)
        {
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            target.Inject(kinds[(int)(i % kinds.Count)]);
        }
    }
}
