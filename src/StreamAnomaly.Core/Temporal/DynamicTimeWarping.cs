namespace StreamAnomaly.Core.Temporal;

/// <summary>
/// One alignment of a signal (length n) to a reference (length m).
/// </summary>
/// <param name="Path">The warping path as (signal index, reference index) pairs, from (0, 0) to (n - 1, m - 1);
/// each step increases one or both indices by exactly 1, so it is monotone and every index of both
/// sequences appears at least once.</param>
/// <param name="ReferenceIndex">Per signal index i, the aligned reference index: where the path holds i
/// against a run of reference indices a..b, the lower median <c>a + (b - a) / 2</c>. Non-decreasing;
/// <c>ReferenceIndex[0] = 0</c> unless the signal's first sample matches several reference samples.</param>
/// <param name="Cost">Sum of |signal[i] - reference[j]| over the path (the DTW distance).</param>
public sealed record DtwAlignment(IReadOnlyList<(int Signal, int Reference)> Path, int[] ReferenceIndex, double Cost);

/// <summary>
/// Dynamic time warping of a 1-D signal onto a reference (in the masking paper: d(t) of a clip onto the
/// period template repeated to the clip's length).
/// </summary>
/// <remarks>
/// Local cost |x_i - y_j|; steps (i-1, j-1), (i-1, j), (i, j-1), all of weight 1; the boundary conditions
/// pin (0, 0) and (n - 1, m - 1). Ties while tracing back prefer the diagonal, then (i - 1, j), then
/// (i, j - 1), which makes the result deterministic. Memory and time are O(n m) without a band and
/// O(n w) with a Sakoe-Chiba band of radius w, where cell (i, j) is allowed when
/// <c>|j - i (m - 1) / (n - 1)| &lt;= w</c> (the band follows the diagonal of the rectangle, so
/// sequences of different lengths are handled). The radius is raised to at least
/// <c>max(1, (m - 1) / (n - 1))</c> so that a path always exists.
/// </remarks>
public static class DynamicTimeWarping
{
    /// <summary>Aligns <paramref name="signal"/> to <paramref name="reference"/> (both non-empty, finite).</summary>
    /// <param name="signal">The sequence being labelled.</param>
    /// <param name="reference">The sequence it is warped onto.</param>
    /// <param name="band">Sakoe-Chiba radius in reference samples, or null for an unconstrained alignment.</param>
    public static DtwAlignment Align(IReadOnlyList<double> signal, IReadOnlyList<double> reference, double? band = null)
    {
        ArgumentNullException.ThrowIfNull(signal);
        ArgumentNullException.ThrowIfNull(reference);
        if (signal.Count == 0 || reference.Count == 0)
        {
            throw new ArgumentException("both sequences must be non-empty");
        }

        if (band is { } b && (b < 0 || double.IsNaN(b)))
        {
            throw new ArgumentOutOfRangeException(nameof(band), band, "the band radius must be non-negative");
        }

        int n = signal.Count, m = reference.Count;
        var (lo, hi) = Band(n, m, band);

        // cost[i][j - lo[i]] = cheapest path from (0, 0) to (i, j).
        var cost = new double[n][];
        for (var i = 0; i < n; i++)
        {
            cost[i] = new double[hi[i] - lo[i] + 1];
            for (var j = lo[i]; j <= hi[i]; j++)
            {
                var local = Math.Abs(signal[i] - reference[j]);
                if (!double.IsFinite(local))
                {
                    throw new ArgumentException("the sequences must be finite");
                }

                double best;
                if (i == 0 && j == 0)
                {
                    best = 0;
                }
                else
                {
                    best = Math.Min(At(cost, lo, hi, i - 1, j - 1), Math.Min(At(cost, lo, hi, i - 1, j), At(cost, lo, hi, i, j - 1)));
                }

                cost[i][j - lo[i]] = best + local;
            }
        }

        var path = new List<(int Signal, int Reference)>(n + m);
        {
            int i = n - 1, j = m - 1;
            path.Add((i, j));
            while (i > 0 || j > 0)
            {
                var diagonal = At(cost, lo, hi, i - 1, j - 1);
                var up = At(cost, lo, hi, i - 1, j);
                var left = At(cost, lo, hi, i, j - 1);
                if (diagonal <= up && diagonal <= left)
                {
                    i--;
                    j--;
                }
                else if (up <= left)
                {
                    i--;
                }
                else
                {
                    j--;
                }

                path.Add((i, j));
            }

            path.Reverse();
        }

        var aligned = new int[n];
        for (var k = 0; k < path.Count;)
        {
            var first = k;
            while (k + 1 < path.Count && path[k + 1].Signal == path[first].Signal)
            {
                k++;
            }

            aligned[path[first].Signal] = path[first].Reference + ((path[k].Reference - path[first].Reference) / 2);
            k++;
        }

        return new DtwAlignment(path, aligned, cost[n - 1][m - 1 - lo[n - 1]]);
    }

    private static double At(double[][] cost, int[] lo, int[] hi, int i, int j) =>
        i < 0 || j < 0 || j < lo[i] || j > hi[i] ? double.PositiveInfinity : cost[i][j - lo[i]];

    /// <summary>Allowed reference range [lo[i], hi[i]] per signal index.</summary>
    private static (int[] Lo, int[] Hi) Band(int n, int m, double? band)
    {
        var lo = new int[n];
        var hi = new int[n];
        if (band is not { } radius || n == 1)
        {
            Array.Fill(hi, m - 1);
            return (lo, hi);
        }

        var slope = (m - 1) / (double)(n - 1);
        var w = Math.Max(radius, Math.Max(1.0, slope));
        for (var i = 0; i < n; i++)
        {
            var centre = i * slope;
            lo[i] = Math.Max(0, (int)Math.Ceiling(centre - w - 1e-9));
            hi[i] = Math.Min(m - 1, (int)Math.Floor(centre + w + 1e-9));
        }

        return (lo, hi);
    }
}
