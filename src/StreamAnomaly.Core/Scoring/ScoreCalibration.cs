namespace StreamAnomaly.Core.Scoring;

/// <summary>
/// Turns a detector's raw score into a normalised score in [0, 1] whose decision threshold is
/// exactly 0.5, following anomalib's min-max contract:
/// <c>n = clamp((raw - Threshold) / (Max - Min) + 0.5, 0, 1)</c>.
/// The statistics come from NORMAL validation frames only and travel inside the model bundle,
/// so serving normalises exactly as evaluation did.
/// </summary>
/// <param name="Threshold">Raw score at which a frame becomes anomalous (maps to 0.5).</param>
/// <param name="Min">Smallest raw score seen on normal validation data.</param>
/// <param name="Max">Largest raw score seen on normal validation data.</param>
/// <param name="Percentile">The percentile of normal scores the threshold was set at (0-100).</param>
public sealed record ScoreCalibration(double Threshold, double Min, double Max, double Percentile)
{
    /// <summary>The normalised decision threshold.</summary>
    public const double NormalizedThreshold = 0.5;

    /// <summary>Normalised score in [0, 1]; &gt;= 0.5 means anomalous.</summary>
    public double Normalize(double raw)
    {
        var range = Max - Min;
        if (!(range > 0))
        {
            range = Math.Max(Math.Abs(Threshold), 1e-12);
        }

        var n = ((raw - Threshold) / range) + NormalizedThreshold;
        return double.IsNaN(n) ? 1.0 : Math.Clamp(n, 0.0, 1.0);
    }

    /// <summary>True when the raw score is at or above the threshold.</summary>
    public bool IsAnomalous(double raw) => raw >= Threshold;

    /// <summary>
    /// A warning when <paramref name="count"/> normal frames are too few for a stable
    /// <paramref name="percentile"/>-th percentile: fewer than <paramref name="minimumAbove"/> of
    /// them lie above it, so the threshold rests on the few highest of them and more normal frames
    /// than the percentile promises will cross it. Null when there are enough, and at percentile
    /// 100 (the largest score, chosen on purpose).
    /// </summary>
    public static string? SampleSizeWarning(int count, double percentile, int minimumAbove = 5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumAbove);
        var share = (100 - percentile) / 100;
        if (!(share > 0) || count * share >= minimumAbove)
        {
            return null;
        }

        var needed = (int)Math.Ceiling(minimumAbove / share);
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"calibrating the {percentile:0.###}th percentile on {count} normal frames: only {count * share:0.##} of them lie above it, so the threshold rests on the few highest and will flag more normal frames than expected; calibrate on at least {needed} normal frames");
    }

    /// <summary>
    /// Fits a calibration to raw scores of normal frames: the threshold is their
    /// <paramref name="percentile"/>-th percentile (linear interpolation between order statistics).
    /// </summary>
    public static ScoreCalibration Fit(IEnumerable<double> normalScores, double percentile)
    {
        ArgumentNullException.ThrowIfNull(normalScores);
        if (percentile is < 0 or > 100 || double.IsNaN(percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "percentile must lie in [0, 100]");
        }

        var sorted = normalScores.ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("calibration needs at least one normal score", nameof(normalScores));
        }

        if (sorted.Any(s => !double.IsFinite(s)))
        {
            throw new ArgumentException("normal scores must be finite", nameof(normalScores));
        }

        Array.Sort(sorted);
        return new ScoreCalibration(Percentiles.OfSorted(sorted, percentile), sorted[0], sorted[^1], percentile);
    }
}

/// <summary>Percentiles of samples.</summary>
public static class Percentiles
{
    /// <summary>
    /// The <paramref name="percentile"/>-th percentile (0-100) of an ascending array, interpolating
    /// linearly between the two nearest order statistics (numpy's default "linear" method).
    /// </summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double percentile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            throw new ArgumentException("no samples", nameof(sorted));
        }

        var rank = percentile / 100.0 * (sorted.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + ((rank - lo) * (sorted[hi] - sorted[lo]));
    }
}
