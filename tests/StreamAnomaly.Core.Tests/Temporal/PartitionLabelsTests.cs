using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Core.Tests.Temporal;

public sealed class PartitionLabelsTests
{
    [Fact]
    public void Classes_of_a_clean_sawtooth_position_are_the_quarters_of_each_period()
    {
        // T = 12, C = 4: k = floor((t mod 12) / 3).
        var positions = Enumerable.Range(0, 30).Select(t => (double)t).ToArray();
        int[] expected = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 1, 1, 1];
        Assert.Equal(expected, PartitionLabels.Classes(positions, 12, 4));
    }

    [Theory]
    [InlineData(-1.0, 3)]   // cyclic: -1 is 11
    [InlineData(2.999, 0)]
    [InlineData(3.0, 1)]
    [InlineData(13.5, 0)]
    public void Classes_are_cyclic_and_fractional_positions_are_allowed(double t, int expected)
    {
        Assert.Equal(expected, PartitionLabels.ClassOf(t, 12, 4));
    }

    [Fact]
    public void Fractional_periods_cut_fractional_borders()
    {
        // T = 10, C = 3: borders 0, 3.33, 6.67.
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 0], PartitionLabels.Classes(Enumerable.Range(0, 11).ToArray(), 10, 3));
    }

    [Theory]
    // T = 40, C = 4 (borders 0, 10, 20, 30), T_trans = 4, h = 2. Rising y_1(t) = (t - 10 + 2) / 4,
    // falling y_0(t) = (10 - t + 2) / 4 = 1 - y_1(t).
    [InlineData(7.0, 1.0, 0.0)]
    [InlineData(8.0, 1.0, 0.0)]     // y_1(8) = 0: ramp starts at t_1 - h
    [InlineData(9.0, 0.75, 0.25)]
    [InlineData(10.0, 0.5, 0.5)]    // the border itself
    [InlineData(11.0, 0.25, 0.75)]
    [InlineData(12.0, 0.0, 1.0)]    // y_1 reaches 1 at t_1 - h + T_trans
    [InlineData(9.5, 0.625, 0.375)]
    public void Even_ramp_values_around_a_border_match_the_formula_by_hand(double t, double y0, double y1)
    {
        var row = PartitionLabels.SmoothedRow(t, 40, 4, 4);
        Assert.Equal(y0, row[0], 12);
        Assert.Equal(y1, row[1], 12);
        Assert.Equal(0, row[2]);
        Assert.Equal(0, row[3]);
    }

    [Theory]
    // T_trans = 3, h = 1: y_1(t) = (t - 10 + 1) / 3 from t = 9 (0) to t = 12 (1); y_0 = (10 - t + 2) / 3.
    [InlineData(9.0, 1.0, 0.0)]
    [InlineData(10.0, 2.0 / 3, 1.0 / 3)]
    [InlineData(11.0, 1.0 / 3, 2.0 / 3)]
    [InlineData(12.0, 0.0, 1.0)]
    public void Odd_ramp_values_match_the_formula_by_hand(double t, double y0, double y1)
    {
        var row = PartitionLabels.SmoothedRow(t, 40, 4, 3);
        Assert.Equal(y0, row[0], 12);
        Assert.Equal(y1, row[1], 12);
    }

    [Theory]
    // The border at t_0 = 0 (= T) is shared by the last class and the first.
    [InlineData(39.0, 0.25, 0.75)]
    [InlineData(0.0, 0.5, 0.5)]
    [InlineData(41.0, 0.75, 0.25)]
    [InlineData(-1.0, 0.25, 0.75)]
    public void Ramps_wrap_around_the_period(double t, double y0, double y3)
    {
        var row = PartitionLabels.SmoothedRow(t, 40, 4, 4);
        Assert.Equal(y0, row[0], 12);
        Assert.Equal(y3, row[3], 12);
    }

    [Fact]
    public void Zero_transition_gives_one_hot_rows_and_too_wide_ramps_are_rejected()
    {
        Assert.Equal([0.0, 1, 0, 0], PartitionLabels.SmoothedRow(10, 40, 4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PartitionLabels.SmoothedRow(10, 40, 4, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => PartitionLabels.ClassOf(1, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => PartitionLabels.ClassOf(1, 10, 0));
    }

    [Property(MaxTest = 300)]
    public Property Rows_sum_to_one_with_at_most_two_adjacent_classes_non_zero(NormalFloat position, PositiveInt periodSeed, PositiveInt classSeed, NonNegativeInt transitionSeed)
    {
        var classes = 1 + (classSeed.Get % 8);
        var period = classes * (1 + (periodSeed.Get % 30)) + (periodSeed.Get % 7 * 0.37);
        var transition = (int)(transitionSeed.Get % ((int)Math.Floor(period / classes) + 1));
        var t = position.Get % 1e6;
        var row = PartitionLabels.SmoothedRow(t, period, classes, transition);
        var nonZero = Enumerable.Range(0, classes).Where(c => row[c] > 0).ToArray();
        var adjacent = nonZero.Length == 1
            || (nonZero.Length == 2 && ((nonZero[1] - nonZero[0]) == 1 || (nonZero[0] == 0 && nonZero[1] == classes - 1)));
        return (Math.Abs(row.Sum() - 1) < 1e-9 && row.All(v => v is >= 0 and <= 1) && adjacent)
            .Label($"t={t} T={period} C={classes} Ttr={transition} row=[{string.Join(", ", row)}]");
    }

    [Fact]
    public void The_whole_weak_label_chain_labels_a_warped_sawtooth_by_its_own_cycles()
    {
        // Template: one clean cycle 0..11 of a sawtooth d(t). The clip has three cycles, 12 + 16 + 8 = 36
        // frames like the reference (3 x 12): a slow one (4 values held twice) and a fast one (values 1, 4, 7,
        // 10 skipped). Each skipped reference value is matched to a neighbour 1 away: DTW cost exactly 4.
        var estimate = PeriodEstimator.Estimate(Enumerable.Range(0, 60).Select(t => (double)(t % 12)).ToArray());
        Assert.Equal(Enumerable.Range(0, 12).Select(v => (double)v), estimate.Template);

        double[] slow = [0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11];
        double[] fast = [0, 2, 3, 5, 6, 8, 9, 11];
        var clip = Enumerable.Range(0, 12).Select(t => (double)t).Concat(slow).Concat(fast).ToArray();
        var alignment = DynamicTimeWarping.Align(clip, estimate.Repeat(clip.Length));
        var classes = PartitionLabels.Classes(alignment.ReferenceIndex, estimate.Template.Length, 4);

        Assert.Equal(4, alignment.Cost, 9);
        // Clean cycle: quarters of 3 frames. Slow cycle: quarters follow the values (0-2 -> 0, 3-5 -> 1, ...).
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3], classes[..12]);
        Assert.Equal(slow.Select(v => (int)v / 3), classes[12..28]);
        Assert.Equal(fast.Select(v => (int)v / 3), classes[28..]);
    }
}
