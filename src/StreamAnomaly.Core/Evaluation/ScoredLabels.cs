namespace StreamAnomaly.Core.Evaluation;

/// <summary>
/// Validated (score, label) pairs sorted by score, highest first, shared by the binary metrics.
/// Invariants: no NaN score, every label is 0 or 1, <see cref="Positives"/> + <see cref="Negatives"/>
/// equals the number of pairs.
/// </summary>
internal sealed class ScoredLabels
{
    private ScoredLabels(double[] scores, int[] labels, int positives)
    {
        Scores = scores;
        Labels = labels;
        Positives = positives;
    }

    /// <summary>Scores, descending.</summary>
    public double[] Scores { get; }

    /// <summary>Labels (0/1), in the order of <see cref="Scores"/>.</summary>
    public int[] Labels { get; }

    public int Positives { get; }

    public int Negatives => Labels.Length - Positives;

    /// <summary>Checks the inputs and sorts them; throws <see cref="ArgumentException"/> on bad input.</summary>
    public static ScoredLabels SortDescending(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        Validate(scores, labels);
        var count = scores.Count;
        var sortedScores = new double[count];
        var sortedLabels = new int[count];
        var positives = 0;
        for (var i = 0; i < count; i++)
        {
            // Negated so that an ascending sort puts the highest score first.
            sortedScores[i] = -scores[i];
            sortedLabels[i] = labels[i];
            positives += labels[i];
        }

        Array.Sort(sortedScores, sortedLabels);
        for (var i = 0; i < count; i++)
        {
            sortedScores[i] = -sortedScores[i];
        }

        return new ScoredLabels(sortedScores, sortedLabels, positives);
    }

    /// <summary>
    /// Walks the tie groups (runs of equal scores) from the highest score down, reporting each
    /// group's number of positives and negatives.
    /// </summary>
    public IEnumerable<(int GroupPositives, int GroupNegatives)> TieGroups()
    {
        var start = 0;
        while (start < Scores.Length)
        {
            var end = start;
            var groupPositives = 0;
            while (end < Scores.Length && Scores[end] == Scores[start])
            {
                groupPositives += Labels[end];
                end++;
            }

            yield return (groupPositives, end - start - groupPositives);
            start = end;
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the lists are non-null, of equal length, with
    /// labels in {0, 1} and no NaN score.
    /// </summary>
    public static void Validate(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Count != labels.Count)
        {
            throw new ArgumentException(
                $"scores and labels must have the same length, got {scores.Count} scores and {labels.Count} labels",
                nameof(labels));
        }

        for (var i = 0; i < scores.Count; i++)
        {
            if (double.IsNaN(scores[i]))
            {
                throw new ArgumentException($"score at index {i} is NaN", nameof(scores));
            }

            if (labels[i] is not (0 or 1))
            {
                throw new ArgumentException($"label at index {i} is {labels[i]}; labels must be 0 (normal) or 1 (anomalous)", nameof(labels));
            }
        }
    }
}
