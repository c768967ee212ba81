using FsCheck.Xunit;
using StreamAnomaly.Core.Evaluation;

namespace StreamAnomaly.Core.Tests.Evaluation;

public class CategoryMetricsTests
{
    [Fact]
    public void AccuracyByCategory_counts_correct_frames_per_category_in_order_of_first_appearance()
    {
        // threshold 0.5:
        // dropped-part : 0.9/1 correct, 0.6/1 correct           -> 2 of 2
        // background   : 0.2/0 correct, 0.8/0 wrong (false alarm) -> 1 of 2
        // normal-object: 0.7/0 wrong (false alarm)             -> 0 of 1
        var result = CategoryMetrics.AccuracyByCategory(
            [0.9, 0.2, 0.7, 0.8, 0.6],
            [1, 0, 0, 0, 1],
            ["dropped-part", "background", "normal-object", "background", "dropped-part"],
            0.5);

        Assert.Equal(
            [new("dropped-part", 2, 2), new("background", 2, 1), new CategoryAccuracy("normal-object", 1, 0)],
            result);
    }

    [Fact]
    public void AccuracyByCategory_counts_a_score_equal_to_the_threshold_as_anomalous()
    {
        var result = CategoryMetrics.AccuracyByCategory([0.5], [1], ["dropped-part"], 0.5);

        Assert.Equal(1.0, Assert.Single(result).Accuracy);
    }

    [Fact]
    public void AccuracyByCategory_of_no_frames_is_empty()
    {
        Assert.Empty(CategoryMetrics.AccuracyByCategory([], [], [], 0.5));
    }

    [Fact]
    public void AccuracyByCategory_rejects_a_category_list_of_different_length()
    {
        var error = Assert.Throws<ArgumentException>(() => CategoryMetrics.AccuracyByCategory([0.1, 0.2], [0, 1], ["a"], 0.5));

        Assert.Equal("categories", error.ParamName);
    }

    [Fact]
    public void AccuracyByCategory_rejects_a_null_category()
    {
        var error = Assert.Throws<ArgumentException>(() => CategoryMetrics.AccuracyByCategory([0.1], [0], [null!], 0.5));

        Assert.Equal("categories", error.ParamName);
    }

    [Fact]
    public void AccuracyByCategory_rejects_labels_other_than_zero_or_one()
    {
        Assert.Throws<ArgumentException>(() => CategoryMetrics.AccuracyByCategory([0.1], [-1], ["a"], 0.5));
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool AccuracyByCategory_totals_agree_with_the_confusion_counts(LabelledScores sample)
    {
        // Category = the score's sign, an arbitrary but deterministic split.
        var categories = sample.Scores.Select(s => s < 0 ? "low" : "high").ToArray();
        var perCategory = CategoryMetrics.AccuracyByCategory(sample.Scores, sample.Labels, categories, 0.0);
        var counts = BinaryMetrics.Confusion(sample.Scores, sample.Labels, 0.0);
        return perCategory.Sum(c => c.Frames) == sample.Scores.Length
            && perCategory.Sum(c => c.Correct) == counts.TruePositives + counts.TrueNegatives;
    }

    [Fact]
    public void CategoryAccuracy_is_correct_over_frames()
    {
        Assert.Equal(0.75, new CategoryAccuracy("background", 4, 3).Accuracy);
    }

    [Fact]
    public void CategoryAccuracy_of_no_frames_is_NaN()
    {
        Assert.True(double.IsNaN(new CategoryAccuracy("background", 0, 0).Accuracy));
    }

    [Fact]
    public void CategoryAccuracy_rejects_more_correct_frames_than_frames()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CategoryAccuracy("background", 2, 3));

        Assert.Equal("Correct", error.ParamName);
    }

    [Fact]
    public void AurocByCategory_ranks_each_categorys_anomalies_against_every_normal_frame()
    {
        // normal: 0.1, 0.4, 0.6. stalled-arm 0.5 beats 2 of 3, 0.9 beats 3 of 3 -> 5/6.
        // dropped-part 0.05 beats none -> 0.
        var result = CategoryMetrics.AurocByCategory(
            [0.5, 0.1, 0.05, 0.4, 0.9, 0.6],
            [1, 0, 1, 0, 1, 0],
            ["stalled-arm", "normal-cycle", "dropped-part", "normal-cycle", "stalled-arm", "background"]);

        Assert.Equal(2, result.Count);
        Assert.Equal(("stalled-arm", 2), (result[0].Category, result[0].AnomalousFrames));
        Assert.Equal(5.0 / 6.0, result[0].Auroc, 12);
        Assert.Equal(("dropped-part", 1, 0.0), (result[1].Category, result[1].AnomalousFrames, result[1].Auroc));
    }

    [Fact]
    public void AurocByCategory_counts_a_tie_with_a_normal_frame_as_half()
    {
        var result = CategoryMetrics.AurocByCategory([0.4, 0.4], [1, 0], ["missed-pick", "normal-cycle"]);

        Assert.Equal(0.5, Assert.Single(result).Auroc);
    }

    [Fact]
    public void AurocByCategory_without_normal_frames_is_empty()
    {
        Assert.Empty(CategoryMetrics.AurocByCategory([0.3, 0.7], [1, 1], ["a", "b"]));
    }

    [Fact]
    public void AurocByCategory_refuses_a_category_list_of_another_length()
    {
        var error = Assert.Throws<ArgumentException>(() => CategoryMetrics.AurocByCategory([0.3, 0.7], [1, 0], ["a"]));
        Assert.Contains("one entry per score", error.Message);
    }
}
