using FsCheck;
using FsCheck.Fluent;

namespace StreamAnomaly.Core.Tests.Evaluation;

/// <summary>
/// Scores with labels, both classes always present. Scores are multiples of 0.5 in [-4, 4] so that
/// ties between positives and negatives are frequent.
/// </summary>
public sealed record LabelledScores(double[] Scores, int[] Labels)
{
    public override string ToString() =>
        $"scores [{string.Join(", ", Scores)}], labels [{string.Join(", ", Labels)}]";
}

/// <summary>FsCheck generators for the evaluation property tests.</summary>
public static class EvaluationArbitraries
{
    public static Arbitrary<LabelledScores> LabelledScores() =>
        Gen.Sized(size =>
                from extra in Gen.Choose(0, Math.Max(0, size))
                from scores in Gen.ArrayOf(Gen.Choose(-8, 8).Select(v => v / 2.0), extra + 2)
                from labels in Gen.ArrayOf(Gen.Elements(0, 1), extra)
                select new LabelledScores(scores, [0, 1, .. labels]))
            .ToArbitrary();
}
