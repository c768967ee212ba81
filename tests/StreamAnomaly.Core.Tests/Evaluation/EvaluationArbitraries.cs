using FsCheck;
using FsCheck.Fluent;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;

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

/// <summary>Two masks of the same random size (1..6 x 1..6).</summary>
public sealed record MaskPair(BinaryMask A, BinaryMask B)
{
    public override string ToString() =>
        $"{A.Width}x{A.Height}: a [{string.Join("", A.Data.Select(v => v ? '#' : '.'))}], b [{string.Join("", B.Data.Select(v => v ? '#' : '.'))}]";
}

/// <summary>Images of random masks (same size within an image) with random ground truth and predictions.</summary>
public sealed record RandomImages(ImageInstances[] Images)
{
    public override string ToString() =>
        string.Join("; ", Images.Select(i => $"{i.GroundTruth.Count} gt, scores [{string.Join(", ", i.Predictions.Select(p => p.Score))}]"));
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

    public static Arbitrary<MaskPair> MaskPair() =>
        (from width in Gen.Choose(1, 6)
         from height in Gen.Choose(1, 6)
         from a in MaskOf(width, height)
         from b in MaskOf(width, height)
         select new MaskPair(a, b))
        .ToArbitrary();

    public static Arbitrary<RandomImages> RandomImages() =>
        (from count in Gen.Choose(1, 4)
         from images in Gen.ArrayOf(ImageGen(), count)
         select new RandomImages(images))
        .ToArbitrary();

    private static Gen<ImageInstances> ImageGen() =>
        from width in Gen.Choose(1, 4)
        from height in Gen.Choose(1, 4)
        from groundTruthCount in Gen.Choose(0, 3)
        from groundTruth in Gen.ArrayOf(MaskOf(width, height), groundTruthCount)
        from predictionCount in Gen.Choose(0, 4)
        from predictions in Gen.ArrayOf(
            from mask in MaskOf(width, height)
            from score in Gen.Choose(0, 4)
            select new PredictedInstance(mask, score / 4.0),
            predictionCount)
        select new ImageInstances(groundTruth, predictions);

    internal static Gen<BinaryMask> MaskOf(int width, int height) =>
        Gen.ArrayOf(Gen.Elements(true, false), width * height).Select(data => new BinaryMask(width, height, data));
}
