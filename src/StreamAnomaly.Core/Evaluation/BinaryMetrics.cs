namespace StreamAnomaly.Core.Evaluation;

/// <summary>
/// Threshold-free and thresholded quality measures of a binary anomaly detector.
/// Inputs, for every method: <c>scores[i]</c> is the detector's score of sample <c>i</c> (any unit,
/// higher = more anomalous; NaN is rejected, infinities are allowed and ordered as usual) and
/// <c>labels[i]</c> its ground truth, 0 = normal, 1 = anomalous. Both lists have the same length.
/// Bad input throws <see cref="ArgumentException"/>. Equal scores form one threshold: no metric
/// depends on the order in which tied samples happen to be listed.
/// </summary>
public static class BinaryMetrics
{
    /// <summary>
    /// Area under the ROC curve, in [0, 1]: the probability that a random anomalous sample scores
    /// higher than a random normal one, a tie counting 1/2 (the Mann-Whitney U statistic divided by
    /// positives x negatives; equals scikit-learn's <c>roc_auc_score</c>).
    /// 1 = perfect ranking, 0.5 = chance, 0 = perfectly reversed.
    /// </summary>
    /// <returns>The AUROC, or <see cref="double.NaN"/> when only one class (or no sample) is present.</returns>
    public static double Auroc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var data = ScoredLabels.SortDescending(scores, labels);
        if (data.Positives == 0 || data.Negatives == 0)
        {
            return double.NaN;
        }

        // Each negative beats no positive ranked above it and ties with the positives of its group.
        double positivesAbove = 0;
        double wins = 0;
        foreach (var (groupPositives, groupNegatives) in data.TieGroups())
        {
            wins += groupNegatives * (positivesAbove + (0.5 * groupPositives));
            positivesAbove += groupPositives;
        }

        return wins / ((double)data.Positives * data.Negatives);
    }

    /// <summary>
    /// Area under the precision-recall curve as average precision, in [0, 1], defined as
    /// scikit-learn's <c>average_precision_score</c>: <c>sum_n (R_n - R_(n-1)) * P_n</c> over the
    /// distinct score thresholds taken from the highest down, where <c>P_n</c>, <c>R_n</c> are the
    /// precision and recall when every sample scoring at least the n-th threshold is called
    /// anomalous (no interpolation). Tied samples enter together.
    /// </summary>
    /// <returns>The average precision, or <see cref="double.NaN"/> when there is no positive (anomalous) sample.</returns>
    public static double AveragePrecision(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var data = ScoredLabels.SortDescending(scores, labels);
        if (data.Positives == 0)
        {
            return double.NaN;
        }

        var truePositives = 0;
        var falsePositives = 0;
        double sum = 0;
        foreach (var (groupPositives, groupNegatives) in data.TieGroups())
        {
            truePositives += groupPositives;
            falsePositives += groupNegatives;
            if (groupPositives > 0)
            {
                var recallStep = (double)groupPositives / data.Positives;
                var precision = (double)truePositives / (truePositives + falsePositives);
                sum += recallStep * precision;
            }
        }

        return sum;
    }

    /// <summary>
    /// Confusion counts at a threshold: a sample is predicted anomalous iff
    /// <c>score &gt;= threshold</c> (a score equal to the threshold counts as anomalous).
    /// </summary>
    /// <param name="scores">Scores, same unit as <paramref name="threshold"/>.</param>
    /// <param name="labels">0 = normal, 1 = anomalous.</param>
    /// <param name="threshold">Decision threshold; must not be NaN.</param>
    public static ConfusionCounts Confusion(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double threshold)
    {
        ScoredLabels.Validate(scores, labels);
        if (double.IsNaN(threshold))
        {
            throw new ArgumentException("threshold is NaN", nameof(threshold));
        }

        int tp = 0, fn = 0, fp = 0, tn = 0;
        for (var i = 0; i < scores.Count; i++)
        {
            var predictedAnomalous = scores[i] >= threshold;
            switch ((labels[i] == 1, predictedAnomalous))
            {
                case (true, true): tp++; break;
                case (true, false): fn++; break;
                case (false, true): fp++; break;
                default: tn++; break;
            }
        }

        return new ConfusionCounts(tp, fn, fp, tn);
    }

    /// <summary>
    /// False positives at the strictest threshold that still finds at least <paramref name="recall"/> of
    /// the anomalous samples: the threshold is the ceil(recall x positives)-th highest anomalous score, and
    /// every normal sample scoring at least that much counts (ties with the threshold count as false
    /// positives). The seed-002 target "cut false positives at recall &gt;= 99 %" compares this between
    /// maskings without depending on where any calibration put its threshold.
    /// </summary>
    /// <param name="scores">Scores, any unit, higher = more anomalous.</param>
    /// <param name="labels">0 = normal, 1 = anomalous.</param>
    /// <param name="recall">Recall to reach, in (0, 1].</param>
    /// <exception cref="ArgumentException">When there is no anomalous sample.</exception>
    public static int FalsePositivesAtRecall(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double recall)
    {
        if (!(recall > 0 && recall <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(recall), recall, "recall must lie in (0, 1]");
        }

        var data = ScoredLabels.SortDescending(scores, labels);
        if (data.Positives == 0)
        {
            throw new ArgumentException("no anomalous sample: recall is undefined", nameof(labels));
        }

        // Lower the threshold one group of tied scores at a time until enough anomalies are found.
        var needed = Math.Max(1, (int)Math.Ceiling((recall * data.Positives) - 1e-9));
        int found = 0, falsePositives = 0;
        foreach (var (groupPositives, groupNegatives) in data.TieGroups())
        {
            found += groupPositives;
            falsePositives += groupNegatives;
            if (found >= needed)
            {
                break;
            }
        }

        return falsePositives;
    }

    /// <summary>
    /// The ROC curve for plotting: (false positive rate, true positive rate) points, both in
    /// [0, 1], ascending in both coordinates, starting at (0, 0) and ending at (1, 1), with one
    /// point per distinct score (the threshold lowered past each group of tied scores in turn).
    /// Collinear points are kept. The trapezoidal area under these points equals <see cref="Auroc"/>.
    /// </summary>
    /// <exception cref="ArgumentException">When only one class (or no sample) is present: the curve is undefined.</exception>
    public static IReadOnlyList<(double Fpr, double Tpr)> RocCurve(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var data = ScoredLabels.SortDescending(scores, labels);
        if (data.Positives == 0 || data.Negatives == 0)
        {
            throw new ArgumentException(
                $"a ROC curve needs both classes, got {data.Positives} anomalous and {data.Negatives} normal samples",
                nameof(labels));
        }

        var points = new List<(double Fpr, double Tpr)> { (0.0, 0.0) };
        var truePositives = 0;
        var falsePositives = 0;
        foreach (var (groupPositives, groupNegatives) in data.TieGroups())
        {
            truePositives += groupPositives;
            falsePositives += groupNegatives;
            points.Add(((double)falsePositives / data.Negatives, (double)truePositives / data.Positives));
        }

        return points;
    }
}
