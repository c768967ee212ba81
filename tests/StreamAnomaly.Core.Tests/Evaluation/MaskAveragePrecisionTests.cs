using FsCheck.Xunit;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Tests.Evaluation;

public class MaskAveragePrecisionTests
{
    private const double Tolerance = 1e-12;

    /// <summary>A 1-pixel-high mask of <paramref name="width"/> pixels, inside from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    private static BinaryMask Span(int from, int to, int width = 20) =>
        new(width, 1, Enumerable.Range(0, width).Select(x => x >= from && x <= to).ToArray());

    private static readonly BinaryMask Left = MaskMetricsTests.Draw("##..", "##..");
    private static readonly BinaryMask Right = MaskMetricsTests.Draw("..##", "..##");
    private static readonly BinaryMask Elsewhere = MaskMetricsTests.Draw("....", "#...");

    private static ImageInstances Image(BinaryMask[] groundTruth, params (BinaryMask Mask, double Score)[] predictions) =>
        new(groundTruth, predictions.Select(p => new PredictedInstance(p.Mask, p.Score)).ToArray());

    [Fact]
    public void Perfect_predictions_give_one()
    {
        ImageInstances[] images =
        [
            Image([Left, Right], (Left, 0.9), (Right, 0.4)),
            Image([Right], (Right, 0.7)),
        ];

        Assert.Equal(1.0, MaskAveragePrecision.At(images, 0.5));
    }

    [Fact]
    public void A_false_positive_ranked_above_both_true_positives_caps_precision_at_two_thirds()
    {
        // Ranked: FP (0.9), TP (0.8), TP (0.7); 2 ground truths.
        // recall    = 0,   1/2, 1
        // precision = 0,   1/2, 2/3  -> envelope 2/3, 2/3, 2/3
        // Every recall level 0, 0.01, ..., 1 first reached at a rank with enveloped precision 2/3:
        // AP = 101 * (2/3) / 101 = 2/3.
        var images = new[] { Image([Left, Right], (Elsewhere, 0.9), (Left, 0.8), (Right, 0.7)) };

        Assert.Equal(2.0 / 3.0, MaskAveragePrecision.At(images, 0.5), Tolerance);
    }

    [Fact]
    public void A_false_positive_ranked_between_true_positives_gives_the_101_point_interpolated_value()
    {
        // Ranked: TP (0.9), FP (0.8), TP (0.7); 2 ground truths.
        // recall    = 1/2, 1/2, 1
        // precision = 1,   1/2, 2/3  -> envelope 1, 2/3, 2/3
        // Recall levels 0.00..0.50 (51 levels) first reached at rank 0: precision 1.
        // Recall levels 0.51..1.00 (50 levels) first reached at rank 2: precision 2/3.
        // AP = (51 * 1 + 50 * 2/3) / 101 = 253/303 = 0.83498...
        var images = new[] { Image([Left, Right], (Left, 0.9), (Elsewhere, 0.8), (Right, 0.7)) };

        Assert.Equal(253.0 / 303.0, MaskAveragePrecision.At(images, 0.5), Tolerance);
    }

    [Fact]
    public void Predictions_are_ranked_across_images()
    {
        // Image 1 holds only a false positive (0.9), image 2 one ground truth found at 0.8.
        // Ranked: FP, TP -> recall 0, 1; precision 0, 1/2 -> envelope 1/2, 1/2 -> AP = 1/2.
        ImageInstances[] images =
        [
            Image([], (Elsewhere, 0.9)),
            Image([Left], (Left, 0.8)),
        ];

        Assert.Equal(0.5, MaskAveragePrecision.At(images, 0.5), Tolerance);
    }

    [Fact]
    public void A_second_prediction_on_an_already_matched_ground_truth_is_a_false_positive()
    {
        // Both predictions cover Left; Right is never found. Ranked: TP (0.9), duplicate FP (0.8).
        // recall = 1/2, 1/2; precision = 1, 1/2 -> envelope 1, 1/2.
        // Levels 0.00..0.50 (51) -> 1; levels above 1/2 are never reached -> 0.  AP = 51/101.
        // (Counting the duplicate as a second true positive would give recall 1 and AP 1.)
        var images = new[] { Image([Left, Right], (Left, 0.9), (Left, 0.8)) };

        Assert.Equal(51.0 / 101.0, MaskAveragePrecision.At(images, 0.5), Tolerance);
    }

    [Fact]
    public void A_prediction_is_matched_to_the_ground_truth_with_the_highest_IoU_not_the_first_above_threshold()
    {
        // 1 x 20 masks. gt1 = [0, 9], gt2 = [5, 14].
        // p1 = [3, 12] (0.9): IoU with gt1 = 7/13 = 0.54, with gt2 = 8/12 = 0.67 -> takes gt2.
        // p2 = [5, 14] (0.8): IoU with gt1 = 5/15 = 0.33 (< 0.5), gt2 already taken -> false positive.
        // Same outcome as the duplicate case: AP = 51/101 (taking gt1 for p1 would have given 1).
        var images = new[] { Image([Span(0, 9), Span(5, 14)], (Span(3, 12), 0.9), (Span(5, 14), 0.8)) };

        Assert.Equal(51.0 / 101.0, MaskAveragePrecision.At(images, 0.5), Tolerance);
    }

    [Fact]
    public void An_IoU_just_below_the_threshold_does_not_match()
    {
        // 1 x 200 masks: ground truth 100 px, prediction its first 49 px -> IoU 0.49 < 0.5.
        var images = new[] { Image([Span(0, 99, 200)], (Span(0, 48, 200), 0.9)) };

        Assert.Equal(0.0, MaskAveragePrecision.At(images, 0.5));
    }

    [Fact]
    public void An_IoU_equal_to_the_threshold_matches()
    {
        // 1 x 200 masks: ground truth 100 px, prediction its first 50 px -> IoU exactly 0.5.
        var images = new[] { Image([Span(0, 99, 200)], (Span(0, 49, 200), 0.9)) };

        Assert.Equal(1.0, MaskAveragePrecision.At(images, 0.5));
    }

    [Fact]
    public void Ground_truth_without_any_prediction_gives_zero()
    {
        Assert.Equal(0.0, MaskAveragePrecision.At([Image([Left])], 0.5));
    }

    [Fact]
    public void No_ground_truth_at_all_gives_NaN()
    {
        Assert.True(double.IsNaN(MaskAveragePrecision.At([Image([], (Left, 0.9))], 0.5)));
    }

    [Fact]
    public void Report_gives_AP_at_050_055_and_060()
    {
        // Two images, each with one 100 px ground truth (1 x 200 masks) and one prediction:
        // A (0.9) covers 57 px of its ground truth (IoU 0.57), B (0.8) covers 52 px (IoU 0.52).
        ImageInstances[] images =
        [
            Image([Span(0, 99, 200)], (Span(0, 56, 200), 0.9)),
            Image([Span(0, 99, 200)], (Span(0, 51, 200), 0.8)),
        ];

        // 0.50: A TP, B TP -> AP 1.  0.55: A TP, B FP -> recall 1/2, 1/2; precision 1, 1/2 -> 51/101.
        // 0.60: A FP, B FP -> 0.
        Assert.Equal(new MaskApReport(1.0, 51.0 / 101.0, 0.0), MaskAveragePrecision.Report(images));
    }

    [Fact]
    public void At_rejects_masks_of_different_sizes_within_an_image()
    {
        var error = Assert.Throws<ArgumentException>(
            () => MaskAveragePrecision.At([Image([Left], (BinaryMask.Empty(3, 3), 0.5))], 0.5));

        Assert.Contains("image 0: prediction 0 is 3x3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void At_rejects_a_NaN_prediction_score()
    {
        var error = Assert.Throws<ArgumentException>(() => MaskAveragePrecision.At([Image([Left], (Left, double.NaN))], 0.5));

        Assert.Contains("NaN", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void At_rejects_an_IoU_threshold_outside_zero_to_one(double threshold)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MaskAveragePrecision.At([Image([Left])], threshold));
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool At_lies_between_zero_and_one_when_there_is_ground_truth(RandomImages sample)
    {
        var ap = MaskAveragePrecision.At(sample.Images, 0.5);
        var hasGroundTruth = sample.Images.Any(i => i.GroundTruth.Count > 0);
        return hasGroundTruth ? ap is >= 0.0 and <= 1.0 : double.IsNaN(ap);
    }

    [Property(Arbitrary = [typeof(EvaluationArbitraries)])]
    public bool Predicting_exactly_the_ground_truth_gives_one(RandomImages sample)
    {
        var perfect = sample.Images
            .Select((image, i) => new ImageInstances(
                image.GroundTruth,
                image.GroundTruth.Select((mask, g) => new PredictedInstance(mask, 1.0 / (1 + g + i))).ToArray()))
            .ToArray();
        var ap = MaskAveragePrecision.At(perfect, 0.5);
        return perfect.Any(i => i.GroundTruth.Count > 0) ? ap == 1.0 : double.IsNaN(ap);
    }

    [Fact]
    public void Agreement_counts_a_duplicate_and_a_stray_instance_as_false_positives_and_the_unfound_object_as_a_false_negative()
    {
        var images = new[] { Image([Left, Right], (Left, 1), (Elsewhere, 1), (Left, 1)) };

        var agreement = MaskAveragePrecision.Agreement(images, 0.5);

        Assert.Equal(new InstanceAgreement(1, 2, 1, 1.0), agreement);
        Assert.Equal(1.0 / 3.0, agreement.Precision, Tolerance);
        Assert.Equal(0.5, agreement.Recall, Tolerance);
    }

    [Fact]
    public void Agreement_matches_an_overlap_of_exactly_the_threshold_and_not_above_it()
    {
        // The half of Left (2 of its 4 pixels): IoU 2/4 = 0.5.
        var half = MaskMetricsTests.Draw("#...", "#...");
        var images = new[] { Image([Left], (half, 1)) };

        Assert.Equal(new InstanceAgreement(1, 0, 0, 0.5), MaskAveragePrecision.Agreement(images, 0.5));
        Assert.Equal(new InstanceAgreement(0, 1, 1, double.NaN), MaskAveragePrecision.Agreement(images, 0.6));
    }

    [Fact]
    public void Agreement_sums_over_images()
    {
        ImageInstances[] images =
        [
            Image([Left], (Left, 1)),
            Image([], (Right, 1)),
            Image([Right]),
        ];

        Assert.Equal(new InstanceAgreement(1, 1, 1, 1.0), MaskAveragePrecision.Agreement(images, 0.5));
    }
}
