using FsCheck.Xunit;
using StreamAnomaly.Core.Evaluation;

namespace StreamAnomaly.Core.Tests.Evaluation;

public class BinaryMetricsTests
{
    private const double Tolerance = 1e-12;

    // ---- AUROC ----

    [Fact]
    public void Auroc_counts_a_tie_between_a_positive_and_a_negative_as_one_half()
    {
        // positives: 0.5, 0.9; negatives: 0.2, 0.5. Pairs (positive, negative):
        // (0.5, 0.2) = 1, (0.5, 0.5) = 1/2 (tie), (0.9, 0.2) = 1, (0.9, 0.5) = 1.
        // U = 3.5 over 2 x 2 = 4 pairs -> 0.875.
        double[] scores = [0.2, 0.5, 0.5, 0.9];
        int[] labels = [0, 0, 1, 1];

        Assert.Equal(0.875, BinaryMetrics.Auroc(scores, labels), Tolerance);
    }

    [Fact]
    public void Auroc_matches_scikit_learn_documentation_example()
    {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75:
        // of the 4 pairs only (0.35 positive, 0.4 negative) is ranked wrongly.
        Assert.Equal(0.75, BinaryMetrics.Auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), Tolerance);
    }

    [Fact]
    public void Auroc_of_perfectly_separated_scores_is_one()
    {
        Assert.Equal(1.0, BinaryMetrics.Auroc([0.1, 0.2, 0.3, 0.7, 0.8], [0, 0, 0, 1, 1]));
    }

    [Fact]
    public void Auroc_of_perfectly_reversed_scores_is_zero()
    {
        Assert.Equal(0.0, BinaryMetrics.Auroc([0.9, 0.8, 0.7, 0.2, 0.1], [0, 0, 0, 1, 1]));
    }

    [Fact]
    public void Auroc_of_all_equal_scores_is_one_half()
    {
        Assert.Equal(0.5, BinaryMetrics.Auroc([3.0, 3.0, 3.0], [0, 1, 1]));
    }

    [Fact]
    public void Auroc_is_NaN_when_only_normal_samples_are_present()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([0.1, 0.2], [0, 0])));
    }

    [Fact]
    public void Auroc_is_NaN_when_only_anomalous_samples_are_present()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([0.1, 0.2], [1, 1])));
    }

    [Fact]
    public void Auroc_is_NaN_for_no_samples()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([], [])));
    }

    [Fact]
    public void Auroc_ranks_infinite_scores_like_any_other()
    {
        Assert.Equal(1.0, BinaryMetrics.Auroc([double.NegativeInfinity, double.PositiveInfinity], [0, 1]));
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool Auroc_of_negated_scores_is_one_minus_auroc(LabelledScores sample)
    {
        var negated = sample.Scores.Select(s => -s).ToArray();
        var sum = BinaryMetrics.Auroc(sample.Scores, sample.Labels) + BinaryMetrics.Auroc(negated, sample.Labels);
        return Math.Abs(sum - 1.0) < Tolerance;
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool Auroc_is_invariant_under_a_strictly_increasing_transform_of_scores(LabelledScores sample)
    {
        var transformed = sample.Scores.Select(s => (Math.Exp(s) * 3.0) - 100.0).ToArray();
        return BinaryMetrics.Auroc(transformed, sample.Labels) == BinaryMetrics.Auroc(sample.Scores, sample.Labels);
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool Auroc_equals_the_brute_force_pair_count(LabelledScores sample)
    {
        double wins = 0;
        var pairs = 0;
        for (var i = 0; i < sample.Scores.Length; i++)
        {
            for (var j = 0; j < sample.Scores.Length; j++)
            {
                if (sample.Labels[i] == 1 && sample.Labels[j] == 0)
                {
                    pairs++;
                    wins += sample.Scores[i] > sample.Scores[j] ? 1.0 : sample.Scores[i] == sample.Scores[j] ? 0.5 : 0.0;
                }
            }
        }

        return Math.Abs(BinaryMetrics.Auroc(sample.Scores, sample.Labels) - (wins / pairs)) < Tolerance;
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool Auroc_equals_the_trapezoidal_area_under_the_roc_curve(LabelledScores sample)
    {
        var curve = BinaryMetrics.RocCurve(sample.Scores, sample.Labels);
        double area = 0;
        for (var k = 1; k < curve.Count; k++)
        {
            area += (curve[k].Fpr - curve[k - 1].Fpr) * (curve[k].Tpr + curve[k - 1].Tpr) / 2.0;
        }

        return Math.Abs(BinaryMetrics.Auroc(sample.Scores, sample.Labels) - area) < 1e-9;
    }

    // ---- Average precision ----

    [Fact]
    public void AveragePrecision_matches_scikit_learn_documentation_example()
    {
        // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333...
        // Descending: 0.8 (pos): P = 1/1, R = 1/2; 0.4 (neg): R unchanged; 0.35 (pos): P = 2/3, R = 2/2.
        // AP = (1/2 - 0) * 1 + (1 - 1/2) * 2/3 = 1/2 + 1/3 = 5/6.
        Assert.Equal(5.0 / 6.0, BinaryMetrics.AveragePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), Tolerance);
    }

    [Fact]
    public void AveragePrecision_treats_tied_scores_as_one_threshold()
    {
        // Thresholds 0.9, 0.5, 0.1. At 0.9: TP 1, FP 0 -> P = 1, R = 1/2.
        // At 0.5 the tied positive and negative enter together: TP 2, FP 1 -> P = 2/3, R = 1.
        // AP = 1/2 * 1 + 1/2 * 2/3 = 5/6 (listing the positive first without grouping would give 1).
        Assert.Equal(5.0 / 6.0, BinaryMetrics.AveragePrecision([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]), Tolerance);
    }

    [Fact]
    public void AveragePrecision_of_a_perfect_ranking_is_one()
    {
        Assert.Equal(1.0, BinaryMetrics.AveragePrecision([0.9, 0.8, 0.3, 0.2, 0.1], [1, 1, 0, 0, 0]));
    }

    [Fact]
    public void AveragePrecision_with_only_positives_is_one()
    {
        Assert.Equal(1.0, BinaryMetrics.AveragePrecision([0.3, 0.1], [1, 1]));
    }

    [Fact]
    public void AveragePrecision_is_NaN_without_positives()
    {
        Assert.True(double.IsNaN(BinaryMetrics.AveragePrecision([0.3, 0.1], [0, 0])));
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool AveragePrecision_lies_between_zero_and_one(LabelledScores sample)
    {
        var ap = BinaryMetrics.AveragePrecision(sample.Scores, sample.Labels);
        return ap is >= 0.0 and <= 1.0 + Tolerance;
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool AveragePrecision_does_not_depend_on_the_listing_order_of_samples(LabelledScores sample)
    {
        var reversedScores = sample.Scores.Reverse().ToArray();
        var reversedLabels = sample.Labels.Reverse().ToArray();
        return Math.Abs(BinaryMetrics.AveragePrecision(sample.Scores, sample.Labels)
            - BinaryMetrics.AveragePrecision(reversedScores, reversedLabels)) < Tolerance;
    }

    // ---- Confusion ----

    [Fact]
    public void Confusion_matches_a_hand_counted_example()
    {
        // threshold 0.5: predicted anomalous = 0.5, 0.5, 0.7, 0.9.
        // 0.1/0 TN, 0.5/1 TP, 0.5/0 FP, 0.7/0 FP, 0.9/1 TP.
        var counts = BinaryMetrics.Confusion([0.1, 0.5, 0.5, 0.7, 0.9], [0, 1, 0, 0, 1], 0.5);

        Assert.Equal(new ConfusionCounts(TruePositives: 2, FalseNegatives: 0, FalsePositives: 2, TrueNegatives: 1), counts);
    }

    [Fact]
    public void Confusion_counts_a_score_equal_to_the_threshold_as_anomalous()
    {
        var counts = BinaryMetrics.Confusion([0.5], [1], 0.5);

        Assert.Equal(1, counts.TruePositives);
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool Confusion_counts_sum_to_the_number_of_samples(LabelledScores sample, int thresholdTenths)
    {
        var counts = BinaryMetrics.Confusion(sample.Scores, sample.Labels, thresholdTenths / 10.0);
        return counts.Total == sample.Scores.Length
            && counts.TruePositives + counts.FalseNegatives == sample.Labels.Sum();
    }

    // ---- ROC curve ----

    [Fact]
    public void RocCurve_has_one_point_per_distinct_score_after_the_origin()
    {
        // Descending thresholds: 0.9 (pos) -> (0, 1/2); 0.5 (pos + neg tie) -> (1/2, 1); 0.2 (neg) -> (1, 1).
        var curve = BinaryMetrics.RocCurve([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1]);

        Assert.Equal([(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)], curve);
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool RocCurve_runs_from_origin_to_one_one_without_going_back(LabelledScores sample)
    {
        var curve = BinaryMetrics.RocCurve(sample.Scores, sample.Labels);
        var ascending = curve.Zip(curve.Skip(1)).All(p => p.First.Fpr <= p.Second.Fpr && p.First.Tpr <= p.Second.Tpr);
        return curve[0] == (0.0, 0.0)
            && curve[^1] == (1.0, 1.0)
            && ascending
            && curve.Count == sample.Scores.Distinct().Count() + 1;
    }

    [Fact]
    public void RocCurve_rejects_a_single_class()
    {
        var error = Assert.Throws<ArgumentException>(() => BinaryMetrics.RocCurve([0.1, 0.2], [0, 0]));

        Assert.Contains("both classes", error.Message, StringComparison.Ordinal);
    }

    // ---- Input validation ----

    [Fact]
    public void False_positives_at_full_recall_count_every_normal_sample_at_or_above_the_lowest_anomaly()
    {
        double[] scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
        int[] labels = [1, 0, 1, 0, 0, 1, 0, 0];

        Assert.Equal(3, BinaryMetrics.FalsePositivesAtRecall(scores, labels, 1.0));      // threshold 0.4: 0.8, 0.6, 0.5
        Assert.Equal(1, BinaryMetrics.FalsePositivesAtRecall(scores, labels, 0.6));      // 2 of 3 needed, threshold 0.7
        Assert.Equal(0, BinaryMetrics.FalsePositivesAtRecall(scores, labels, 0.3));      // 1 of 3, threshold 0.9
    }

    [Fact]
    public void False_positives_at_recall_count_a_normal_sample_tied_with_the_threshold()
    {
        Assert.Equal(1, BinaryMetrics.FalsePositivesAtRecall([0.5, 0.5, 0.1], [1, 0, 0], 1.0));
    }

    [Fact]
    public void False_positives_at_99_percent_recall_may_miss_one_anomaly_in_a_hundred()
    {
        var scores = Enumerable.Range(0, 100).Select(i => i == 0 ? 0.0 : 1.0).Append(0.5).ToArray();
        var labels = Enumerable.Repeat(1, 100).Append(0).ToArray();

        Assert.Equal(0, BinaryMetrics.FalsePositivesAtRecall(scores, labels, 0.99));
        Assert.Equal(1, BinaryMetrics.FalsePositivesAtRecall(scores, labels, 1.0));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void False_positives_at_recall_reject_a_recall_outside_zero_to_one(double recall) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryMetrics.FalsePositivesAtRecall([0.5, 0.1], [1, 0], recall));

    [Fact]
    public void False_positives_at_recall_need_an_anomalous_sample() =>
        Assert.Throws<ArgumentException>(() => BinaryMetrics.FalsePositivesAtRecall([0.5, 0.1], [0, 0], 0.99));

    [Fact]
    public void Metrics_reject_scores_and_labels_of_different_lengths()
    {
        var error = Assert.Throws<ArgumentException>(() => BinaryMetrics.Auroc([0.1, 0.2], [0]));

        Assert.Contains("same length", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metrics_reject_labels_other_than_zero_or_one()
    {
        var error = Assert.Throws<ArgumentException>(() => BinaryMetrics.AveragePrecision([0.1, 0.2], [0, 2]));

        Assert.Equal("labels", error.ParamName);
    }

    [Fact]
    public void Metrics_reject_NaN_scores()
    {
        var error = Assert.Throws<ArgumentException>(() => BinaryMetrics.Confusion([0.1, double.NaN], [0, 1], 0.5));

        Assert.Equal("scores", error.ParamName);
    }

    [Fact]
    public void Confusion_rejects_a_NaN_threshold()
    {
        var error = Assert.Throws<ArgumentException>(() => BinaryMetrics.Confusion([0.1], [0], double.NaN));

        Assert.Equal("threshold", error.ParamName);
    }

    [Fact]
    public void Metrics_reject_null_scores()
    {
        Assert.Throws<ArgumentNullException>(() => BinaryMetrics.Auroc(null!, [0]));
    }
}
