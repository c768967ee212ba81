namespace StreamAnomaly.Core.Temporal;

/// <summary>
/// The cycle of a periodic signal (typically <see cref="FrameDistance"/>'s d(t)), all in frames.
/// </summary>
/// <param name="Period">Mean cycle length in frames (fractional): the mean spacing of the matched cycle minima.</param>
/// <param name="Template">One representative cycle of the signal, in the signal's units: the average of the
/// cycles cut at <paramref name="CycleStarts"/>, each resampled (linearly) to the median cycle length, rounded;
/// <c>Template.Length</c> is that length (&gt;= 2).</param>
/// <param name="CycleStarts">The matched minima (sample indices, increasing) where the cycles are cut; the
/// period uses the same minima refined to a fraction of a frame by parabolic interpolation.</param>
/// <param name="CoarsePeriod">The autocorrelation estimate that seeded the minima search (fractional frames).</param>
public sealed record PeriodEstimate(double Period, double[] Template, double[] CycleStarts, double CoarsePeriod)
{
    /// <summary>
    /// The template repeated to <paramref name="length"/> samples (the DTW reference for a clip of that length):
    /// <c>reference[r] = Template[r mod Template.Length]</c>, so its period is exactly <c>Template.Length</c>.
    /// </summary>
    public double[] Repeat(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var result = new double[length];
        for (var r = 0; r < length; r++)
        {
            result[r] = Template[r % Template.Length];
        }

        return result;
    }
}

/// <summary>
/// Estimates the cycle period of a periodic signal that is robust to per-cycle jitter (cycles a few
/// percent longer or shorter than the mean) and to additive noise.
/// </summary>
/// <remarks>
/// Method, in two steps:
/// <list type="number">
/// <item>Coarse: remove the least-squares line (detrend), compute the unbiased autocorrelation
/// <c>r(k) = (1/(n-k)) sum_i x_i x_(i+k)</c> normalised by <c>r(0)</c> for lags up to the maximum period,
/// skip the central lobe (up to the first lag where r drops below zero, or its first local minimum),
/// and take the first local maximum whose height is at least 80 % of the highest local maximum (so
/// that a multiple of the period, or a weaker sub-harmonic, is not picked); parabolic interpolation
/// refines the lag to a fraction of a frame. Jitter makes the peaks lower and wider but does not move
/// the first one much.</item>
/// <item>Refined: smooth the signal with a centred moving average (about an eighth of the coarse period),
/// anchor at its lowest point within the first coarse period, then walk forwards and backwards,
/// taking the lowest point within +-25 % of one coarse period from the previous minimum (a minimum on
/// the signal's edge counts only if the expected position lies inside the signal), each moved to the
/// raw signal's lowest sample nearby (there the cycles are cut for the template) and refined by
/// parabolic interpolation. The period is the mean
/// spacing <c>(last - first) / (count - 1)</c> of these matched minima (those on the first or last
/// sample left out when two interior ones remain), so per-cycle jitter averages out instead of
/// biasing one lag. For d(t) the minima are
/// the instants the machine returns to its frame-0 pose, the natural cycle boundaries.</item>
/// </list>
/// With fewer than two minima found, the coarse period is returned.
/// </remarks>
public static class PeriodEstimator
{
    private const double SearchTolerance = 0.25;
    private const double PeakShare = 0.8;

    /// <summary>
    /// Estimates period and template of <paramref name="signal"/>.
    /// </summary>
    /// <param name="signal">Samples, one per frame; finite; at least 2 * <paramref name="minPeriod"/> + 2 of them.</param>
    /// <param name="minPeriod">Shortest period considered, in frames (&gt;= 2).</param>
    /// <param name="maxPeriod">Longest period considered, in frames; default (and at most) half the signal length,
    /// so at least two cycles must be present.</param>
    /// <exception cref="InvalidOperationException">No periodicity was found in the allowed range.</exception>
    public static PeriodEstimate Estimate(IReadOnlyList<double> signal, double minPeriod = 2, double? maxPeriod = null)
    {
        ArgumentNullException.ThrowIfNull(signal);
        ArgumentOutOfRangeException.ThrowIfLessThan(minPeriod, 2.0);
        var n = signal.Count;
        if (n < (2 * minPeriod) + 2)
        {
            throw new ArgumentException($"{n} samples cannot hold two cycles of at least {minPeriod} frames", nameof(signal));
        }

        foreach (var v in signal)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("the signal must be finite", nameof(signal));
            }
        }

        var maxLag = Math.Min(n / 2.0, maxPeriod ?? double.PositiveInfinity);
        if (maxLag < minPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPeriod), maxPeriod, "the longest period must be at least the shortest");
        }

        var coarse = CoarsePeriod(signal, minPeriod, maxLag);
        var (cuts, refined) = MatchedMinima(signal, coarse);
        var period = MeanSpacing(refined, n, coarse);
        var starts = cuts.Select(c => (double)c).ToArray();
        var template = Template(signal, starts, coarse);
        return new PeriodEstimate(period, template, starts, coarse);
    }

    /// <summary>Autocorrelation estimate of the period (step 1 of the remarks).</summary>
    private static double CoarsePeriod(IReadOnlyList<double> signal, double minPeriod, double maxLag)
    {
        var x = Detrended(signal);
        var n = x.Length;
        var lags = (int)Math.Floor(maxLag) + 1;
        var r = new double[Math.Min(lags + 1, n)];
        for (var k = 0; k < r.Length; k++)
        {
            var sum = 0.0;
            for (var i = 0; i + k < n; i++)
            {
                sum += x[i] * x[i + k];
            }

            r[k] = sum / (n - k);
        }

        if (r[0] <= 0)
        {
            throw new InvalidOperationException("the signal is constant: no period");
        }

        for (var k = r.Length - 1; k >= 0; k--)
        {
            r[k] /= r[0];
        }

        // Skip the central lobe: up to the first negative value, or else to the first local minimum.
        var lobeEnd = 1;
        while (lobeEnd < r.Length - 1 && r[lobeEnd] >= 0 && !(r[lobeEnd] <= r[lobeEnd - 1] && r[lobeEnd] < r[lobeEnd + 1]))
        {
            lobeEnd++;
        }

        var first = Math.Max(lobeEnd, (int)Math.Ceiling(minPeriod));
        var peaks = new List<int>();
        for (var k = Math.Max(first, 1); k < r.Length - 1 && k <= maxLag; k++)
        {
            if (r[k] > r[k - 1] && r[k] >= r[k + 1] && r[k] > 0)
            {
                peaks.Add(k);
            }
        }

        if (peaks.Count == 0)
        {
            throw new InvalidOperationException($"no autocorrelation peak between {minPeriod} and {maxLag} frames: the signal is not periodic there");
        }

        var best = peaks.Max(k => r[k]);
        var lag = peaks.First(k => r[k] >= PeakShare * best);
        return lag + ParabolicOffset(r[lag - 1], r[lag], r[lag + 1]);
    }

    /// <summary>
    /// Cycle minima (step 2 of the remarks), increasing: the sample indices (where the cycles are cut)
    /// and the same minima refined to a fraction of a frame (whose spacing gives the period).
    /// </summary>
    private static (int[] Cuts, double[] Refined) MatchedMinima(IReadOnlyList<double> signal, double coarse)
    {
        var n = signal.Count;
        var window = Math.Max(1, (int)Math.Round(coarse / 8)) | 1;
        var smooth = MovingAverage(signal, window);
        var anchor = ArgMin(smooth, 0, Math.Min(n - 1, (int)Math.Ceiling(coarse)));
        var found = new List<int> { Lowest(signal, anchor, window) };

        for (var direction = 1; direction >= -1; direction -= 2)
        {
            var previous = anchor;
            while (true)
            {
                var expected = previous + (direction * coarse);
                if (expected < 0 || expected > n - 1)
                {
                    break;
                }

                var lo = Math.Max(0, (int)Math.Ceiling(expected - (SearchTolerance * coarse)));
                var hi = Math.Min(n - 1, (int)Math.Floor(expected + (SearchTolerance * coarse)));
                var next = ArgMin(smooth, lo, hi);
                if (next == previous)
                {
                    break;
                }

                found.Add(Lowest(signal, next, window));
                previous = next;
            }
        }

        found.Sort();
        var refined = found.Select(i => i > 0 && i < n - 1
            ? i + ParabolicOffset(signal[i - 1], signal[i], signal[i + 1])
            : i).ToArray();
        return ([.. found], refined);
    }

    /// <summary>
    /// Mean spacing of the minima. Minima on the signal's first or last sample cannot be refined to a
    /// fraction of a frame like the others (a shape-dependent offset that cancels between interior
    /// minima), so they are left out of the mean when at least two interior minima remain.
    /// </summary>
    private static double MeanSpacing(double[] starts, int n, double coarse)
    {
        var interior = starts.Where(s => s > 0 && s < n - 1).ToArray();
        var used = interior.Length >= 2 ? interior : starts;
        return used.Length >= 2 ? (used[^1] - used[0]) / (used.Length - 1) : coarse;
    }

    /// <summary>
    /// The raw signal's lowest sample within half a smoothing window of <paramref name="i"/> (the smoothing
    /// shifts minima of asymmetric cycles).
    /// </summary>
    private static int Lowest(IReadOnlyList<double> signal, int i, int window)
    {
        var half = Math.Max(1, window / 2);
        var best = i;
        for (var k = Math.Max(0, i - half); k <= Math.Min(signal.Count - 1, i + half); k++)
        {
            if (signal[k] < signal[best])
            {
                best = k;
            }
        }

        return best;
    }

    private static double[] Template(IReadOnlyList<double> signal, double[] starts, double coarse)
    {
        var n = signal.Count;
        if (starts.Length < 2)
        {
            // One cycle only: take the coarse period's worth of samples from the anchor (or the start).
            var length = Math.Max(2, (int)Math.Round(coarse));
            var from = starts.Length == 1 && starts[0] + length <= n - 1 ? starts[0] : 0;
            return Resample(signal, from, from + length, length);
        }

        var spans = new double[starts.Length - 1];
        for (var i = 0; i < spans.Length; i++)
        {
            spans[i] = starts[i + 1] - starts[i];
        }

        var sorted = spans.Order().ToArray();
        var median = sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        var samples = Math.Max(2, (int)Math.Round(median));
        var template = new double[samples];
        for (var i = 0; i < spans.Length; i++)
        {
            var part = Resample(signal, starts[i], starts[i + 1], samples);
            for (var j = 0; j < samples; j++)
            {
                template[j] += part[j] / spans.Length;
            }
        }

        return template;
    }

    /// <summary><paramref name="samples"/> linearly interpolated values at from + j (to - from) / samples, j = 0 .. samples - 1.</summary>
    private static double[] Resample(IReadOnlyList<double> signal, double from, double to, int samples)
    {
        var result = new double[samples];
        for (var j = 0; j < samples; j++)
        {
            var position = Math.Clamp(from + (j * (to - from) / samples), 0, signal.Count - 1);
            var i = Math.Min((int)Math.Floor(position), signal.Count - 2);
            var f = position - i;
            result[j] = ((1 - f) * signal[i]) + (f * signal[i + 1]);
        }

        return result;
    }

    private static double[] Detrended(IReadOnlyList<double> signal)
    {
        var n = signal.Count;
        double meanT = (n - 1) / 2.0, meanY = signal.Average();
        double stt = 0, sty = 0;
        for (var t = 0; t < n; t++)
        {
            stt += (t - meanT) * (t - meanT);
            sty += (t - meanT) * (signal[t] - meanY);
        }

        var slope = stt > 0 ? sty / stt : 0;
        var result = new double[n];
        for (var t = 0; t < n; t++)
        {
            result[t] = signal[t] - meanY - (slope * (t - meanT));
        }

        return result;
    }

    /// <summary>Centred moving average of odd <paramref name="window"/>, truncated (not padded) at the edges.</summary>
    private static double[] MovingAverage(IReadOnlyList<double> signal, int window)
    {
        var n = signal.Count;
        var half = window / 2;
        var prefix = new double[n + 1];
        for (var i = 0; i < n; i++)
        {
            prefix[i + 1] = prefix[i] + signal[i];
        }

        var result = new double[n];
        for (var i = 0; i < n; i++)
        {
            int lo = Math.Max(0, i - half), hi = Math.Min(n - 1, i + half);
            result[i] = (prefix[hi + 1] - prefix[lo]) / (hi - lo + 1);
        }

        return result;
    }

    private static int ArgMin(double[] values, int lo, int hi)
    {
        var best = lo;
        for (var i = lo + 1; i <= hi; i++)
        {
            if (values[i] < values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Vertex offset in (-0.5, 0.5) of the parabola through (-1, a), (0, b), (1, c).</summary>
    private static double ParabolicOffset(double a, double b, double c)
    {
        var denominator = a - (2 * b) + c;
        return Math.Abs(denominator) < 1e-12 ? 0 : Math.Clamp(0.5 * (a - c) / denominator, -0.5, 0.5);
    }
}
