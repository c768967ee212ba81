using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Cli.Reports;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Integrated;

namespace StreamAnomaly.Cli.Research;

/// <summary>Which integrated bundle to score with the true normal-object masks, on which clips, and where the report goes.</summary>
internal sealed record TrueMasksRequest(string Bundle, string Data, string Out, string Device = "cpu");

/// <summary>
/// <c>research true-masks</c>: the integrated CNN's Table-5 rows plus its default scoring with the
/// clips' true normal-object masks (<c>CLIP.masks/normal-object/</c>) in place of the segmentation
/// head's: what the scoring reaches with a perfect head. That column's threshold is the plain
/// autoencoder's, since on a frame without a normal object the two scores are the same number
/// (exact when the bundle was calibrated on background frames only, the paper's protocol).
/// </summary>
internal static class TrueMasksWorkflow
{
    /// <summary>The extra column's name.</summary>
    public const string Column = "integrated, true masks";

    public static EvaluationMetrics Run(TrueMasksRequest request)
    {
        using var loaded = DetectorCatalog.Load(request.Bundle, TorchDevices.Parse(request.Device));
        if (loaded.Detector is not IntegratedDetector detector)
        {
            throw new ArgumentException($"{request.Bundle}: true masks replace the integrated CNN's segmentation head; this bundle is '{loaded.Manifest.Detector}'");
        }

        var plain = IntegratedScoring.Table5.Single(v => !v.UseMask).Name;
        var calibrations = loaded.Manifest.Calibrations;
        var clips = ClipDataset.Open(request.Data, requireLabels: true);
        var category = detector.Options.ObjectCategory;
        if (clips.FirstOrDefault(c => c.ReadMask(category, 0) is null) is { } unmasked)
        {
            throw new InvalidDataFileException(unmasked.MediaPath, $"true masks need every clip's {category} masks (CLIP.masks/{category}/)");
        }

        var columns = detector.Variants
            .Select((name, v) => new EvalColumn(v == 0 ? loaded.Manifest.Detector : $"{loaded.Manifest.Detector}/{name}", calibrations.GetValueOrDefault(name)))
            .Append(new EvalColumn(Column, calibrations.GetValueOrDefault(plain)))
            .ToArray();
        return EvalWorkflow.Report(loaded.Manifest.ModelVersion, clips, columns, clip => Score(detector, clip, category), request.Out, "research true-masks", request.Data);
    }

    /// <summary>Every Table-5 row and the true-mask column of one clip, in chunks of <see cref="DetectorLifecycle.Chunk"/> frames.</summary>
    private static IReadOnlyList<IReadOnlyList<RawFrameScore>?> Score(IntegratedDetector detector, Clip clip, string category)
    {
        var rows = Enumerable.Range(0, IntegratedScoring.Table5.Count + 1).Select(_ => new List<RawFrameScore>()).ToArray();
        var start = 0;
        foreach (var chunk in clip.ReadFrames().Chunk(DetectorLifecycle.Chunk))
        {
            var masks = chunk.Select((_, i) => clip.ReadMask(category, start + i)!).ToArray();
            var table = detector.ScoreVariants(chunk, IntegratedScoring.Table5);
            var truth = detector.ScoreVariants(chunk, [IntegratedScoring.Table5[0]], masks)[0];
            for (var v = 0; v < table.Count; v++)
            {
                rows[v].AddRange(table[v]);
            }

            rows[^1].AddRange(truth);
            start += chunk.Length;
        }

        return rows;
    }
}
