using StreamAnomaly.Core.Evaluation;

namespace StreamAnomaly.Core.Tests.Evaluation;

public class ConfusionCountsTests
{
    private static readonly ConfusionCounts Example = new(TruePositives: 3, FalseNegatives: 1, FalsePositives: 2, TrueNegatives: 4);

    [Fact]
    public void Total_is_the_sum_of_the_four_counts()
    {
        Assert.Equal(10, Example.Total);
    }

    [Fact]
    public void Accuracy_is_correct_decisions_over_total()
    {
        Assert.Equal(7.0 / 10.0, Example.Accuracy, 1e-12);
    }

    [Fact]
    public void Recall_is_true_positives_over_actual_positives()
    {
        Assert.Equal(3.0 / 4.0, Example.Recall, 1e-12);
    }

    [Fact]
    public void Precision_is_true_positives_over_predicted_positives()
    {
        Assert.Equal(3.0 / 5.0, Example.Precision, 1e-12);
    }

    [Fact]
    public void Recall_is_NaN_without_actual_positives()
    {
        Assert.True(double.IsNaN(new ConfusionCounts(0, 0, 2, 3).Recall));
    }

    [Fact]
    public void Precision_is_NaN_without_predicted_positives()
    {
        Assert.True(double.IsNaN(new ConfusionCounts(0, 4, 0, 3).Precision));
    }

    [Fact]
    public void Accuracy_is_NaN_for_no_samples()
    {
        Assert.True(double.IsNaN(default(ConfusionCounts).Accuracy));
    }

    [Fact]
    public void Constructor_rejects_a_negative_count()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ConfusionCounts(1, 0, -1, 0));

        Assert.Equal("FalsePositives", error.ParamName);
    }
}
