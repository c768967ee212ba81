namespace StreamAnomaly.Core.Temporal;

/// <summary>
/// The weak partition labels of one clip (the masking paper's steps 2 to 4), all per frame.
/// </summary>
/// <param name="Distance">d(t) of the clip against the reference frame (grey levels).</param>
/// <param name="Reference">The repeated template the clip was aligned to (same length as the clip).</param>
/// <param name="AlignedIndex">Per frame, the DTW-aligned index into <paramref name="Reference"/>.</param>
/// <param name="Position">Per frame, the aligned position in template frames (cyclic, in [0, TemplateLength)).</param>
/// <param name="Classes">Hard partition class per frame, 0 .. C - 1.</param>
/// <param name="Soft">Smoothed label rows per frame (C values summing to 1).</param>
/// <param name="Shift">The template phase (template frames) the clip was found to start at.</param>
public sealed record ClipCycleLabels(
    double[] Distance,
    double[] Reference,
    int[] AlignedIndex,
    double[] Position,
    int[] Classes,
    double[][] Soft,
    int Shift);

/// <summary>
/// Turns d(t) signals of training clips into partition-order labels: template repeated to the clip,
/// DTW alignment, partition classes and smoothed labels.
/// </summary>
/// <remarks>
/// <para>Reference: every d(t) must be measured against the SAME reference frame (frame 0 of one
/// reference clip), so that template phase 0 means the same machine pose in every clip; measured
/// against each clip's own frame 0, class k would mean a different pose in each clip whose recording
/// starts at another point of the cycle.</para>
/// <para>Repeated template (<see cref="RepeatTemplate"/>): the clip holds <c>k = max(1, round(n / Period))</c>
/// cycles; the template is repeated k times and resampled (linear, cyclic) to exactly n samples, so the
/// last frame of the clip maps to the end of the k-th cycle. Naive repetition (template[t mod L], see
/// <see cref="PeriodEstimate.Repeat"/>) drifts by the difference between L and the clip's true period and
/// pins the clip's end to an arbitrary phase, which mislabels the ends.</para>
/// <para>Start phase: clips need not start at the reference pose (recordings start anywhere in the cycle),
/// while DTW pins start to start. So the repeated template is also shifted by s = 0 .. L - 1 template
/// frames (starting the reference at phase s), and the shift with the lowest DTW cost is kept. The
/// aligned position of a frame is <c>(s + j k L / n) mod L</c> for aligned reference index j.</para>
/// </remarks>
public static class CycleLabels
{
    /// <summary>
    /// The template repeated <c>max(1, round(n / period))</c> times, starting at template phase
    /// <paramref name="shift"/>, resampled to <paramref name="length"/> samples (cyclic linear interpolation).
    /// </summary>
    public static double[] RepeatTemplate(IReadOnlyList<double> template, double period, int length, double shift = 0)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentOutOfRangeException.ThrowIfLessThan(template.Count, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var cycles = Cycles(period, length);
        var result = new double[length];
        for (var j = 0; j < length; j++)
        {
            result[j] = TemplateAt(template, PhaseOf(j, template.Count, cycles, length, shift));
        }

        return result;
    }

    /// <summary>Number of cycles a clip of <paramref name="length"/> frames holds: <c>max(1, round(length / period))</c>.</summary>
    public static int Cycles(double period, int length)
    {
        if (!(period > 0) || !double.IsFinite(period))
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "the period must be positive and finite");
        }

        return Math.Max(1, (int)Math.Round(length / period));
    }

    /// <summary>
    /// Labels one clip: d(t) (against the shared reference frame) aligned by DTW to the cycle's template
    /// repeated to the clip's length at the best start phase (see the remarks).
    /// </summary>
    /// <param name="distance">d(t) of the clip, one value per frame (at least 2).</param>
    /// <param name="cycle">The cycle estimated on the reference clip.</param>
    /// <param name="classes">Partitions C.</param>
    /// <param name="transition">Ramp width T_trans in frames; clamped to <c>floor(L / C)</c>.</param>
    public static ClipCycleLabels Label(IReadOnlyList<double> distance, PeriodEstimate cycle, int classes, int transition)
    {
        ArgumentNullException.ThrowIfNull(distance);
        ArgumentNullException.ThrowIfNull(cycle);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegative(transition);
        var n = distance.Count;
        if (n < 2)
        {
            throw new ArgumentException("a clip needs at least 2 frames to be labelled", nameof(distance));
        }

        var template = cycle.Template;
        var length = template.Length;
        var cycles = Cycles(cycle.Period, n);
        DtwAlignment? best = null;
        double[]? bestReference = null;
        var bestShift = 0;
        for (var shift = 0; shift < length; shift++)
        {
            var reference = RepeatTemplate(template, cycle.Period, n, shift);
            var alignment = DynamicTimeWarping.Align(distance, reference);
            if (best is null || alignment.Cost < best.Cost)
            {
                (best, bestReference, bestShift) = (alignment, reference, shift);
            }
        }

        var positions = best!.ReferenceIndex.Select(j => PhaseOf(j, length, cycles, n, bestShift)).ToArray();
        var ramp = Math.Min(transition, (int)Math.Floor(length / (double)classes));
        return new ClipCycleLabels(
            [.. distance],
            bestReference!,
            best.ReferenceIndex,
            positions,
            PartitionLabels.Classes(positions, length, classes),
            PartitionLabels.Smoothed(positions, length, classes, ramp),
            bestShift);
    }

    /// <summary>Template phase (template frames, in [0, L)) of reference sample j.</summary>
    private static double PhaseOf(int j, int templateLength, int cycles, int length, double shift)
    {
        var phase = shift + (j * (double)cycles * templateLength / length);
        return phase - (Math.Floor(phase / templateLength) * templateLength);
    }

    private static double TemplateAt(IReadOnlyList<double> template, double phase)
    {
        var i = (int)Math.Floor(phase);
        var f = phase - i;
        i %= template.Count;
        return ((1 - f) * template[i]) + (f * template[(i + 1) % template.Count]);
    }
}
