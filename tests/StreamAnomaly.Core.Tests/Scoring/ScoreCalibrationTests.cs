using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Core.Tests.Scoring;

public sealed class ScoreCalibrationTests
{
    [Fact]
    public void Threshold_is_the_linearly_interpolated_percentile_of_normal_scores()
    {
        // sorted 1..5; rank of the 90th percentile = 0.9 * 4 = 3.6 -> 4 + 0.6 * (5 - 4) = 4.6 (numpy: 4.6)
        var calibration = ScoreCalibration.Fit([5, 1, 3, 2, 4], 90);
        Assert.Equal(4.6, calibration.Threshold, 12);
        Assert.Equal(1, calibration.Min);
        Assert.Equal(5, calibration.Max);
    }

    [Fact]
    public void Sixty_frames_at_the_99th_percentile_get_a_warning_asking_for_500()
    {
        var warning = ScoreCalibration.SampleSizeWarning(60, 99);
        Assert.NotNull(warning);
        Assert.Contains("only 0.6 of them lie above it", warning);
        Assert.Contains("at least 500 normal frames", warning);
    }

    [Theory]
    [InlineData(500, 99)]
    [InlineData(100, 95)]
    [InlineData(3, 100)]
    public void Enough_frames_above_the_percentile_or_the_maximum_itself_get_no_warning(int count, double percentile) =>
        Assert.Null(ScoreCalibration.SampleSizeWarning(count, percentile));

    [Fact]
    public void One_frame_short_of_five_above_the_percentile_gets_a_warning()
    {
        var warning = ScoreCalibration.SampleSizeWarning(99, 95);
        Assert.NotNull(warning);
        Assert.Contains("at least 100 normal frames", warning);
    }

    [Fact]
    public void The_threshold_normalises_to_one_half()
    {
        var calibration = ScoreCalibration.Fit([10, 20, 30, 40], 75);
        Assert.Equal(0.5, calibration.Normalize(calibration.Threshold), 12);
    }

    [Fact]
    public void Normalised_scores_follow_the_min_max_contract()
    {
        var calibration = new ScoreCalibration(Threshold: 30, Min: 10, Max: 50, Percentile: 99);
        Assert.Equal(0.75, calibration.Normalize(40), 12);   // (40 - 30) / 40 + 0.5
        Assert.Equal(0.25, calibration.Normalize(20), 12);
        Assert.Equal(1.0, calibration.Normalize(1e9));
        Assert.Equal(0.0, calibration.Normalize(-1e9));
    }

    [Fact]
    public void A_constant_normal_score_still_gives_a_usable_scale()
    {
        var calibration = ScoreCalibration.Fit([3, 3, 3], 99);
        Assert.Equal(0.5, calibration.Normalize(3));
        Assert.True(calibration.Normalize(4) > 0.5);
    }

    [Fact]
    public void Fitting_rejects_no_scores_non_finite_scores_and_bad_percentiles()
    {
        Assert.Throws<ArgumentException>(() => ScoreCalibration.Fit([], 99));
        Assert.Throws<ArgumentException>(() => ScoreCalibration.Fit([1, double.NaN], 99));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreCalibration.Fit([1, 2], 101));
    }

    [Property]
    public Property Normalisation_is_monotone_and_bounded_and_agrees_with_the_decision(NormalFloat[] normal, NormalFloat a, NormalFloat b)
    {
        var scores = normal.Select(v => v.Get).ToArray();
        if (scores.Length == 0)
        {
            return true.ToProperty();
        }

        var calibration = ScoreCalibration.Fit(scores, 95);
        var (lo, hi) = a.Get <= b.Get ? (a.Get, b.Get) : (b.Get, a.Get);
        var nlo = calibration.Normalize(lo);
        var nhi = calibration.Normalize(hi);
        return (nlo <= nhi
            && nlo is >= 0 and <= 1
            && nhi is >= 0 and <= 1
            && (calibration.IsAnomalous(hi) == (nhi >= 0.5) || Math.Abs(hi - calibration.Threshold) < 1e-9 * Math.Max(1, Math.Abs(hi)))).ToProperty();
    }
}
