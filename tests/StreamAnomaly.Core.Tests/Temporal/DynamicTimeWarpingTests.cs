using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Core.Tests.Temporal;

public sealed class DynamicTimeWarpingTests
{
    [Fact]
    public void A_signal_shorter_than_the_reference_holds_its_first_sample_over_the_repeated_start()
    {
        // x = [0, 1, 2], y = [0, 0, 1, 2]; local cost |x_i - y_j| and accumulated D(i, j):
        //   cost        D
        //   0 0 1 2     0 0 1 3
        //   1 1 0 1     1 1 0 1
        //   2 2 1 0     3 3 1 0
        // Back from (2, 3): diagonal D(1, 2) = 0 is the minimum -> (1, 2); diagonal D(0, 1) = 0 -> (0, 1);
        // only left remains -> (0, 0). Signal 0 holds reference 0..1 (lower median 0).
        var alignment = DynamicTimeWarping.Align([0, 1, 2], [0, 0, 1, 2]);
        Assert.Equal([(0, 0), (0, 1), (1, 2), (2, 3)], alignment.Path);
        Assert.Equal([0, 2, 3], alignment.ReferenceIndex);
        Assert.Equal(0, alignment.Cost);
    }

    [Fact]
    public void A_signal_longer_than_the_reference_repeats_a_reference_index()
    {
        // x = [1, 3, 3, 2], y = [1, 3, 2]:
        //   cost      D
        //   0 2 1     0 2 3
        //   2 0 1     2 0 1
        //   2 0 1     4 0 1
        //   1 1 0     5 1 0
        // Back from (3, 2): diagonal D(2, 1) = 0 -> (2, 1); up D(1, 1) = 0 beats diagonal D(1, 0) = 2
        // -> (1, 1); diagonal D(0, 0) = 0 -> (0, 0).
        var alignment = DynamicTimeWarping.Align([1, 3, 3, 2], [1, 3, 2]);
        Assert.Equal([(0, 0), (1, 1), (2, 1), (3, 2)], alignment.Path);
        Assert.Equal([0, 1, 1, 2], alignment.ReferenceIndex);
        Assert.Equal(0, alignment.Cost);
    }

    [Fact]
    public void Ties_prefer_the_diagonal_and_the_cost_is_the_sum_along_the_path()
    {
        // x = [0, 2], y = [0, 1, 2]:
        //   cost      D
        //   0 1 2     0 1 3
        //   2 1 0     2 1 1
        // Back from (1, 2): diagonal D(0, 1) = 1 ties left D(1, 1) = 1 -> diagonal (0, 1); then left (0, 0).
        // Cost 0 + 1 + 0 = 1. Signal 0 holds reference 0..1 -> 0.
        var alignment = DynamicTimeWarping.Align([0, 2], [0, 1, 2]);
        Assert.Equal([(0, 0), (0, 1), (1, 2)], alignment.Path);
        Assert.Equal([0, 2], alignment.ReferenceIndex);
        Assert.Equal(1, alignment.Cost);
    }

    [Fact]
    public void A_run_of_several_reference_indices_maps_to_its_lower_median()
    {
        // x = [0, 5], y = [0, 0, 0, 0, 5]: signal 0 holds reference 0..3 at cost 0 -> 0 + 3 / 2 = 1.
        var alignment = DynamicTimeWarping.Align([0, 5], [0, 0, 0, 0, 5]);
        Assert.Equal([1, 4], alignment.ReferenceIndex);
        Assert.Equal(0, alignment.Cost);
    }

    [Fact]
    public void A_band_wide_enough_gives_the_unconstrained_alignment_and_keeps_the_path_inside_it()
    {
        var reference = Enumerable.Range(0, 60).Select(t => Math.Sin(t * 0.3)).ToArray();
        var signal = Enumerable.Range(0, 50).Select(t => Math.Sin(t * 0.36 + 0.1)).ToArray();
        var free = DynamicTimeWarping.Align(signal, reference);
        var banded = DynamicTimeWarping.Align(signal, reference, band: 40);
        Assert.Equal(free.Path, banded.Path);

        var narrow = DynamicTimeWarping.Align(signal, reference, band: 3);
        var slope = 59.0 / 49.0;
        Assert.All(narrow.Path, p => Assert.True(Math.Abs(p.Reference - (p.Signal * slope)) <= 3 + 1e-9));
        Assert.True(narrow.Cost >= free.Cost);
    }

    [Fact]
    public void Empty_sequences_and_negative_bands_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => DynamicTimeWarping.Align([], [1]));
        Assert.Throws<ArgumentException>(() => DynamicTimeWarping.Align([1], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicTimeWarping.Align([1], [1], band: -1));
    }

    [Property(MaxTest = 200)]
    public Property Paths_run_from_start_to_end_in_unit_monotone_steps_covering_every_index(
        NonEmptyArray<sbyte> x, NonEmptyArray<sbyte> y, byte bandSeed, bool useBand)
    {
        var signal = x.Get.Select(v => (double)v).ToArray();
        var reference = y.Get.Select(v => (double)v).ToArray();
        double? band = useBand ? bandSeed % 5 : null;
        var alignment = DynamicTimeWarping.Align(signal, reference, band);
        var path = alignment.Path;
        int n = signal.Length, m = reference.Length;

        var endpoints = path[0] == (0, 0) && path[^1] == (n - 1, m - 1);
        var unitSteps = path.Zip(path.Skip(1)).All(p =>
        {
            int di = p.Second.Signal - p.First.Signal, dj = p.Second.Reference - p.First.Reference;
            return (di, dj) is (1, 0) or (0, 1) or (1, 1);
        });
        var covers = path.Select(p => p.Signal).Distinct().Count() == n && path.Select(p => p.Reference).Distinct().Count() == m;
        var aligned = alignment.ReferenceIndex;
        var alignedMonotone = aligned.Length == n && aligned.Zip(aligned.Skip(1)).All(p => p.First <= p.Second)
            && aligned.All(j => j >= 0 && j < m) && path.Contains((0, aligned[0])) && path.Contains((n - 1, aligned[^1]));
        var cost = path.Sum(p => Math.Abs(signal[p.Signal] - reference[p.Reference]));

        return (endpoints && unitSteps && covers && alignedMonotone && Math.Abs(cost - alignment.Cost) < 1e-9)
            .Label($"endpoints {endpoints}, unit steps {unitSteps}, covers {covers}, aligned {alignedMonotone}");
    }

    [Property(MaxTest = 100)]
    public Property A_sequence_aligned_to_itself_follows_the_diagonal_at_zero_cost(NonEmptyArray<sbyte> x)
    {
        var s = x.Get.Select(v => (double)v).ToArray();
        var alignment = DynamicTimeWarping.Align(s, s);
        // The diagonal costs 0 and D >= 0 everywhere, so the diagonal wins every trace-back step (ties included).
        return (alignment.Cost == 0 && alignment.ReferenceIndex.SequenceEqual(Enumerable.Range(0, s.Length))).ToProperty();
    }
}
