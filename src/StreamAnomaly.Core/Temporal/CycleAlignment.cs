namespace StreamAnomaly.Core.Temporal;

/// <summary>How the last frames of a camera fit the machine's normal cycle (see <see cref="CycleAlignment"/>).</summary>
/// <param name="Excess">Timing score: <see cref="Cost"/> minus <see cref="FreeCost"/>, &gt;= 0.</param>
/// <param name="Cost">Mean distance of the window's frames to the cycle traversed at the best normal speed.</param>
/// <param name="FreeCost">Mean distance of each frame to its own nearest phase (no timing constraint).</param>
/// <param name="Phase">Phase of the window's last frame on the best normal-speed path, in [0, 1).</param>
/// <param name="Speed">Speed of that path relative to the learned cycle (1 = the normal period).</param>
public sealed record CycleMatch(double Excess, double Cost, double FreeCost, double Phase, double Speed);

/// <summary>
/// The timing test of the cycle-phase detector. The machine's normal cycle is a template of
/// <c>L</c> phase bins; each frame comes with its distance to every bin (a row of <c>L</c> values).
/// A window of the last <c>W</c> frames is matched to the template along straight paths: the last
/// frame at phase bin <c>s</c>, frame <c>i</c> steps back at <c>s - i v</c> (cyclic, interpolated
/// linearly between bins), for every start bin and every speed <c>v</c> in the normal band. The
/// window's cost is the lowest mean distance along such a path; its free cost is the mean of each
/// frame's distance to its own nearest bin. Their difference, the excess, is what the timing adds:
/// frames that each look like some moment of a normal cycle but not in a normal order or at a normal
/// pace (an arm standing still, a cycle run too fast or too slow, a skipped step) make it large, while
/// anything that makes every frame look less like the template (a person walking behind, lighting)
/// raises both costs alike and cancels.
/// </summary>
public static class CycleAlignment
{
    /// <summary>
    /// <paramref name="steps"/> speeds spaced evenly in log scale from <c>1 / (1 + tolerance)</c> to
    /// <c>1 + tolerance</c> (an odd count includes 1 exactly).
    /// </summary>
    public static double[] Speeds(double tolerance, int steps)
    {
        if (!(tolerance >= 0) || !double.IsFinite(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the speed tolerance must be finite and >= 0");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        if (steps == 1 || tolerance == 0)
        {
            return [1.0];
        }

        var top = Math.Log(1 + tolerance);
        return Enumerable.Range(0, steps).Select(k => Math.Exp(-top + (2 * top * k / (steps - 1)))).ToArray();
    }

    /// <summary>
    /// Matches the window of frames <c>max(0, last - window + 1) .. last</c> of
    /// <paramref name="distances"/> (one row of bin distances per frame, all of the template's length).
    /// </summary>
    public static CycleMatch Match(IReadOnlyList<double[]> distances, int last, int window, IReadOnlyList<double> speeds)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(speeds);
        ArgumentOutOfRangeException.ThrowIfNegative(last);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(last, distances.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        if (speeds.Count == 0)
        {
            throw new ArgumentException("at least one speed is needed", nameof(speeds));
        }

        var bins = distances[last].Length;
        if (bins < 2)
        {
            throw new ArgumentException("the template needs at least 2 phase bins", nameof(distances));
        }

        var frames = Math.Min(window, last + 1);
        var free = 0.0;
        for (var i = 0; i < frames; i++)
        {
            var row = distances[last - i];
            if (row.Length != bins)
            {
                throw new ArgumentException($"frame {last - i} has {row.Length} bin distances, frame {last} has {bins}", nameof(distances));
            }

            free += row.Min();
        }

        free /= frames;
        var (best, bestStart, bestSpeed) = (double.PositiveInfinity, 0, 1.0);
        foreach (var speed in speeds)
        {
            for (var start = 0; start < bins; start++)
            {
                var sum = 0.0;
                for (var i = 0; i < frames && sum < best * frames; i++)
                {
                    sum += At(distances[last - i], start - (i * speed));
                }

                if (sum / frames < best)
                {
                    (best, bestStart, bestSpeed) = (sum / frames, start, speed);
                }
            }
        }

        return new CycleMatch(Math.Max(0, best - free), best, free, bestStart / (double)bins, bestSpeed);
    }

    /// <summary>The row's value at fractional cyclic bin <paramref name="position"/> (linear between bins).</summary>
    private static double At(double[] row, double position)
    {
        var bins = row.Length;
        position -= Math.Floor(position / bins) * bins;
        var low = (int)position;
        var f = position - low;
        low %= bins;
        return ((1 - f) * row[low]) + (f * row[(low + 1) % bins]);
    }
}
