namespace StreamAnomaly.Core.Evaluation;

/// <summary>
/// Thresholded accuracy of the frames of one category.
/// Invariant: <c>0 &lt;= Correct &lt;= Frames</c> (the constructor throws otherwise) and
/// <see cref="Category"/> is not null.
/// </summary>
/// <param name="Category">The ground-truth category (e.g. "background", "dropped-part").</param>
/// <param name="Frames">Number of frames of this category.</param>
/// <param name="Correct">Frames whose thresholded decision agrees with their label.</param>
public sealed record CategoryAccuracy(string Category, int Frames, int Correct)
{
    public string Category { get; } = Category ?? throw new ArgumentNullException(nameof(Category));

    public int Frames { get; } = Frames >= 0
        ? Frames
        : throw new ArgumentOutOfRangeException(nameof(Frames), Frames, "frame count must be >= 0");

    public int Correct { get; } = Correct >= 0 && Correct <= Frames
        ? Correct
        : throw new ArgumentOutOfRangeException(nameof(Correct), Correct, $"correct count must lie in [0, {Frames}]");

    /// <summary><c>Correct / Frames</c>, in [0, 1]; NaN when <see cref="Frames"/> is 0.</summary>
    public double Accuracy => Frames == 0 ? double.NaN : (double)Correct / Frames;
}

/// <summary>
/// How well raw scores rank the anomalous frames of one category above every normal frame.
/// </summary>
/// <param name="Category">The ground-truth category of the anomalous frames.</param>
/// <param name="AnomalousFrames">Anomalous frames of this category.</param>
/// <param name="Auroc">AUROC of those frames against all normal frames (of any category).</param>
public sealed record CategoryAuroc(string Category, int AnomalousFrames, double Auroc);

/// <summary>Metrics broken down by the ground-truth category of each frame.</summary>
public static class CategoryMetrics
{
    /// <summary>
    /// Accuracy per category: a frame is correct iff <c>(score &gt;= threshold) == (label == 1)</c>.
    /// Categories are compared ordinally (case-sensitive) and listed in order of first appearance;
    /// every listed category has at least one frame, and the frame counts sum to the input length.
    /// </summary>
    /// <param name="scores">Per-frame scores, same unit as <paramref name="threshold"/>; no NaN.</param>
    /// <param name="labels">Per-frame labels, 0 = normal, 1 = anomalous.</param>
    /// <param name="categories">Per-frame category names; none may be null.</param>
    /// <param name="threshold">Decision threshold; must not be NaN.</param>
    public static IReadOnlyList<CategoryAccuracy> AccuracyByCategory(
        IReadOnlyList<double> scores,
        IReadOnlyList<int> labels,
        IReadOnlyList<string> categories,
        double threshold)
    {
        Validate(scores, labels, categories);

        if (double.IsNaN(threshold))
        {
            throw new ArgumentException("threshold is NaN", nameof(threshold));
        }

        var indexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var frames = new List<int>();
        var correct = new List<int>();
        for (var i = 0; i < scores.Count; i++)
        {
            var category = categories[i];
            if (!indexOf.TryGetValue(category, out var k))
            {
                k = names.Count;
                indexOf.Add(category, k);
                names.Add(category);
                frames.Add(0);
                correct.Add(0);
            }

            frames[k]++;
            if ((scores[i] >= threshold) == (labels[i] == 1))
            {
                correct[k]++;
            }
        }

        var result = new CategoryAccuracy[names.Count];
        for (var k = 0; k < names.Count; k++)
        {
            result[k] = new CategoryAccuracy(names[k], frames[k], correct[k]);
        }

        return result;
    }

    /// <summary>
    /// AUROC per anomaly category: the anomalous frames of one category against every normal frame,
    /// so a category's figure does not depend on how hard the other categories are. One entry per
    /// category that holds an anomalous frame, in order of first appearance; empty when no frame is
    /// normal (there is nothing to rank against).
    /// </summary>
    /// <param name="scores">Per-frame raw scores; no NaN.</param>
    /// <param name="labels">Per-frame labels, 0 = normal, 1 = anomalous.</param>
    /// <param name="categories">Per-frame category names; none may be null.</param>
    public static IReadOnlyList<CategoryAuroc> AurocByCategory(
        IReadOnlyList<double> scores,
        IReadOnlyList<int> labels,
        IReadOnlyList<string> categories)
    {
        Validate(scores, labels, categories);

        var normal = Enumerable.Range(0, scores.Count).Where(i => labels[i] == 0).ToArray();
        if (normal.Length == 0)
        {
            return [];
        }

        return Enumerable.Range(0, scores.Count)
            .Where(i => labels[i] == 1)
            .GroupBy(i => categories[i], StringComparer.Ordinal)
            .Select(group =>
            {
                var frames = normal.Concat(group).ToArray();
                var auroc = BinaryMetrics.Auroc(frames.Select(i => scores[i]).ToArray(), frames.Select(i => labels[i]).ToArray());
                return new CategoryAuroc(group.Key, group.Count(), auroc);
            })
            .ToArray();
    }

    private static void Validate(IReadOnlyList<double> scores, IReadOnlyList<int> labels, IReadOnlyList<string> categories)
    {
        ScoredLabels.Validate(scores, labels);
        ArgumentNullException.ThrowIfNull(categories);
        if (categories.Count != scores.Count)
        {
            throw new ArgumentException(
                $"categories must have one entry per score, got {categories.Count} categories and {scores.Count} scores",
                nameof(categories));
        }

        for (var i = 0; i < categories.Count; i++)
        {
            if (categories[i] is null)
            {
                throw new ArgumentException($"category at index {i} is null", nameof(categories));
            }
        }
    }
}
