namespace StreamAnomaly.Core.Evaluation;

/// <summary>
/// Counts of a binary decision against ground truth, in samples (frames). "Positive" means
/// anomalous. Invariant: every count is &gt;= 0 (the constructor throws
/// <see cref="ArgumentOutOfRangeException"/> otherwise).
/// </summary>
/// <param name="TruePositives">Anomalous samples predicted anomalous.</param>
/// <param name="FalseNegatives">Anomalous samples predicted normal (missed).</param>
/// <param name="FalsePositives">Normal samples predicted anomalous (false alarms).</param>
/// <param name="TrueNegatives">Normal samples predicted normal.</param>
public readonly record struct ConfusionCounts(int TruePositives, int FalseNegatives, int FalsePositives, int TrueNegatives)
{
    public int TruePositives { get; } = NonNegative(TruePositives, nameof(TruePositives));

    public int FalseNegatives { get; } = NonNegative(FalseNegatives, nameof(FalseNegatives));

    public int FalsePositives { get; } = NonNegative(FalsePositives, nameof(FalsePositives));

    public int TrueNegatives { get; } = NonNegative(TrueNegatives, nameof(TrueNegatives));

    /// <summary>Number of samples: the sum of the four counts.</summary>
    public int Total => TruePositives + FalseNegatives + FalsePositives + TrueNegatives;

    /// <summary>Fraction of samples decided correctly, in [0, 1]; NaN when <see cref="Total"/> is 0.</summary>
    public double Accuracy => Ratio(TruePositives + TrueNegatives, Total);

    /// <summary>
    /// True positive rate TP / (TP + FN), in [0, 1]; NaN when there is no anomalous sample.
    /// </summary>
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>
    /// TP / (TP + FP), in [0, 1]; NaN when nothing was predicted anomalous.
    /// </summary>
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);

    private static double Ratio(int numerator, int denominator) =>
        denominator == 0 ? double.NaN : (double)numerator / denominator;

    private static int NonNegative(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value, name);
        return value;
    }
}
