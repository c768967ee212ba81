using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Core.Tests.Temporal;

public sealed class PeriodEstimatorTests
{
    /// <summary>
    /// A d(t)-like signal: cycles whose lengths vary by up to +-<paramref name="jitter"/> around
    /// <paramref name="period"/>, each the same shape stretched to its length (0 at the cycle start, a
    /// hump with a shoulder), plus Gaussian noise. Returns the signal and the true mean cycle length.
    /// </summary>
    private static (double[] Signal, double MeanCycle) Synthetic(double period, int cycles, double jitter, double noise, int seed)
    {
        var random = new Random(seed);
        var lengths = Enumerable.Range(0, cycles).Select(_ => period * (1 + (jitter * ((2 * random.NextDouble()) - 1)))).ToArray();
        var starts = new double[cycles + 1];
        for (var c = 0; c < cycles; c++)
        {
            starts[c + 1] = starts[c] + lengths[c];
        }

        var n = (int)Math.Floor(starts[^1]);
        var signal = new double[n];
        var cycle = 0;
        for (var t = 0; t < n; t++)
        {
            while (t >= starts[cycle + 1])
            {
                cycle++;
            }

            var phase = (t - starts[cycle]) / lengths[cycle];
            var shape = (10 * Math.Pow(Math.Sin(Math.PI * phase), 2)) + (3 * Math.Sin(2 * Math.PI * phase) * Math.Sin(Math.PI * phase));
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            signal[t] = shape + (noise * gaussian);
        }

        return (signal, lengths.Average());
    }

    [Theory]
    [InlineData(40.0, 8, 1)]
    [InlineData(40.0, 8, 2)]
    [InlineData(23.5, 10, 3)]
    [InlineData(57.3, 6, 4)]
    [InlineData(31.7, 12, 5)]
    public void Recovers_the_mean_cycle_within_three_percent_under_six_percent_jitter_and_noise(double period, int cycles, int seed)
    {
        var (signal, meanCycle) = Synthetic(period, cycles, jitter: 0.06, noise: 0.5, seed);
        var estimate = PeriodEstimator.Estimate(signal);
        Assert.InRange(estimate.Period, meanCycle * 0.97, meanCycle * 1.03);
        Assert.InRange(estimate.CoarsePeriod, meanCycle * 0.85, meanCycle * 1.15);
        Assert.InRange(estimate.Template.Length, (int)(period * 0.9), (int)Math.Ceiling(period * 1.1));
    }

    [Fact]
    public void Recovers_the_period_for_many_seeds_and_noise_levels()
    {
        for (var seed = 10; seed < 40; seed++)
        {
            var period = 18 + seed;
            var (signal, meanCycle) = Synthetic(period, 6 + (seed % 7), jitter: 0.06, noise: 0.25 * (seed % 5), seed);
            var estimate = PeriodEstimator.Estimate(signal);
            Assert.True(Math.Abs(estimate.Period - meanCycle) <= 0.03 * meanCycle, $"seed {seed}: {estimate.Period} vs {meanCycle}");
        }
    }

    [Fact]
    public void A_linear_drift_does_not_move_the_estimate()
    {
        var (signal, meanCycle) = Synthetic(30, 10, jitter: 0.06, noise: 0.3, seed: 7);
        var drifted = signal.Select((v, t) => v + (0.05 * t)).ToArray();
        var estimate = PeriodEstimator.Estimate(drifted);
        Assert.InRange(estimate.Period, meanCycle * 0.97, meanCycle * 1.03);
    }

    [Fact]
    public void The_template_of_a_clean_periodic_signal_is_one_of_its_cycles()
    {
        // A symmetric cycle 0, 1, 2, 3, 4, 3, 2, 1 (period 8) repeated 6 times: minima at 0, 8, 16, ...
        double[] cycle = [0, 1, 2, 3, 4, 3, 2, 1];
        var signal = Enumerable.Range(0, 48).Select(t => cycle[t % 8]).ToArray();
        var estimate = PeriodEstimator.Estimate(signal);
        Assert.Equal(8, estimate.Period, 9);
        Assert.Equal(cycle, estimate.Template);
        Assert.Equal([0.0, 8, 16, 24, 32, 40], estimate.CycleStarts);
        Assert.Equal(cycle.Concat(cycle).Take(12).ToArray(), estimate.Repeat(12));
    }

    [Fact]
    public void A_clean_sawtooth_has_its_exact_period()
    {
        var signal = Enumerable.Range(0, 60).Select(t => (double)(t % 12)).ToArray();
        var estimate = PeriodEstimator.Estimate(signal);
        Assert.Equal(12, estimate.Period, 6);
        Assert.Equal(12, estimate.Template.Length);
    }

    [Fact]
    public void Constant_or_too_short_signals_are_rejected()
    {
        Assert.Throws<InvalidOperationException>(() => PeriodEstimator.Estimate(Enumerable.Repeat(3.0, 50).ToArray()));
        Assert.Throws<ArgumentException>(() => PeriodEstimator.Estimate([1, 2, 3]));
        Assert.Throws<ArgumentException>(() => PeriodEstimator.Estimate([1, 2, double.NaN, 1, 2, 3, 1, 2]));
    }
}
