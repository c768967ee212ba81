namespace StreamAnomaly.Core.Temporal;

/// <summary>
/// Partition-order labels of the masking paper: a frame's aligned position t (in reference frames,
/// fractional allowed) lies in one of C equal parts of the period T; that part is its class.
/// </summary>
/// <remarks>
/// <para>Hard class: <c>k = floor((t - floor(t / T) T) / (T / C))</c>, in 0 .. C - 1 (positions are taken
/// cyclically, so t may exceed T or be negative). When t is an index into the template repeated by
/// <see cref="PeriodEstimate.Repeat"/>, T is <c>Template.Length</c>.</para>
/// <para>Soft labels: class c owns <c>[t_c, t_(c+1))</c> with borders <c>t_c = c T / C</c>, cyclic
/// (<c>t_C = T = t_0</c>). With <c>h = floor(T_trans / 2)</c>, around each border the label ramps
/// linearly over T_trans frames, exactly the paper's rising ramp:
/// <c>y_c(t) = (t - t_c + h) / T_trans</c> for <c>t_c - h &lt;= t &lt; t_c - h + T_trans</c>; 1 inside;
/// 0 outside. The falling ramp of class c at its end border is the complement of the next class's
/// rising ramp: <c>y_c(t) = 1 - y_(c+1)(t) = (t_(c+1) - t + (T_trans - h)) / T_trans</c>, so the two
/// ramps overlap on the same T_trans frames and every row sums to exactly 1, with at most two classes
/// non-zero. For even T_trans, <c>T_trans - h = h</c> and this is <c>(t_(c+1) - t + floor(T_trans / 2)) / T_trans</c>.
/// (Written with <c>- floor(T_trans / 2)</c>, as in SEEDS.md, the falling ramp would end where the
/// rising one starts and rows would not sum to 1: we take that sign as a typo.)</para>
/// <para>The formula is asymmetric by design of the paper: the border frame t_c itself gets
/// <c>y_c = h / T_trans</c> (0.5 for even T_trans; with T_trans = 1 the step happens one frame late).
/// T_trans = 0 gives one-hot labels. T_trans must not exceed T / C so that ramps of one class do not
/// overlap each other.</para>
/// </remarks>
public static class PartitionLabels
{
    /// <summary>Hard class of position <paramref name="t"/> (frames) in a period of <paramref name="period"/> frames cut into <paramref name="classes"/> parts.</summary>
    public static int ClassOf(double t, double period, int classes)
    {
        Validate(period, classes);
        if (!double.IsFinite(t))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "the position must be finite");
        }

        var phase = t - (Math.Floor(t / period) * period);
        var k = (int)Math.Floor(phase / (period / classes));
        return Math.Clamp(k, 0, classes - 1); // rounding can put phase at exactly T
    }

    /// <summary>Hard classes of many positions (see <see cref="ClassOf"/>).</summary>
    public static int[] Classes(IReadOnlyList<double> positions, double period, int classes)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var result = new int[positions.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ClassOf(positions[i], period, classes);
        }

        return result;
    }

    /// <summary>Hard classes of DTW-aligned reference indices (see <see cref="DtwAlignment.ReferenceIndex"/>).</summary>
    public static int[] Classes(IReadOnlyList<int> alignedIndices, double period, int classes)
    {
        ArgumentNullException.ThrowIfNull(alignedIndices);
        return Classes(alignedIndices.Select(i => (double)i).ToArray(), period, classes);
    }

    /// <summary>
    /// Soft label row of position <paramref name="t"/>: <paramref name="classes"/> values in [0, 1] summing to 1
    /// (see the remarks for the ramps).
    /// </summary>
    /// <param name="t">Position in frames, cyclic in the period.</param>
    /// <param name="period">Period T in frames (&gt; 0).</param>
    /// <param name="classes">Number of partitions C (&gt;= 1).</param>
    /// <param name="transition">Ramp width T_trans in frames, 0 .. T / C.</param>
    public static double[] SmoothedRow(double t, double period, int classes, int transition)
    {
        Validate(period, classes);
        ArgumentOutOfRangeException.ThrowIfNegative(transition);
        if (transition > (period / classes) + 1e-9)
        {
            throw new ArgumentOutOfRangeException(nameof(transition), transition, $"the ramp may not be wider than one partition ({period / classes} frames)");
        }

        var row = new double[classes];
        var k = ClassOf(t, period, classes);
        if (transition == 0 || classes == 1)
        {
            row[k] = 1;
            return row;
        }

        var width = period / classes;
        var phase = t - (Math.Floor(t / period) * period);
        var h = transition / 2;
        var sinceStart = phase - (k * width);             // t - t_k, in [0, width)
        var untilEnd = ((k + 1) * width) - phase;         // t_(k+1) - t, in (0, width]
        var rising = (sinceStart + h) / transition;       // y_k on its rising ramp
        var next = (h - untilEnd) / transition;           // y_(k+1) on its rising ramp: (t - t_(k+1) + h) / T_trans
        if (rising < 1)
        {
            row[k] = rising;
            row[(k + classes - 1) % classes] = 1 - rising;
        }
        else if (next > 0)
        {
            row[(k + 1) % classes] = next;
            row[k] = 1 - next;
        }
        else
        {
            row[k] = 1;
        }

        return row;
    }

    /// <summary>Soft label rows for many positions: <c>result[i][c]</c> (see <see cref="SmoothedRow"/>).</summary>
    public static double[][] Smoothed(IReadOnlyList<double> positions, double period, int classes, int transition)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var result = new double[positions.Count][];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = SmoothedRow(positions[i], period, classes, transition);
        }

        return result;
    }

    private static void Validate(double period, int classes)
    {
        if (!(period > 0) || !double.IsFinite(period))
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "the period must be positive and finite");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
    }
}
