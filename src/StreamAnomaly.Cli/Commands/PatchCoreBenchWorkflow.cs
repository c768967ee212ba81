using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Synthetic.Scene;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.PatchCore;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What <c>bench patchcore</c> measures.</summary>
/// <param name="TrainFrames">Training-set sizes to fit a bank on, one row each.</param>
/// <param name="Size">PatchCore's input side in pixels.</param>
/// <param name="TestFrames">Frames scored per timing.</param>
/// <param name="Device">cpu or cuda.</param>
internal sealed record PatchCoreBenchRequest(IReadOnlyList<int> TrainFrames, int Size, int TestFrames, string Device);

/// <summary>One row of the benchmark.</summary>
internal sealed record PatchCoreBenchRow(int TrainFrames, double FitSeconds, long BankPatches, double BankMegabytes, double FramesPerSecond, double ScoringMegabytes);

/// <summary>
/// <c>bench patchcore</c>: fits PatchCore on rendered robot-cell frames (128 px, 5 fps, one scene)
/// for each training-set size, and measures in one run the fit time, the bank's size, the scoring
/// throughput (frames/s, batches of <see cref="PatchCoreDetector.BatchSize"/>) and the resident
/// memory scoring adds (the peak of the process's working set, sampled every 5 ms, over the level
/// before). The autoencoder baseline (its default options, one epoch on the first training frames)
/// is timed on the same test frames, for the ratio.
/// </summary>
internal static class PatchCoreBenchWorkflow
{
    private const int FrameSide = 128;

    public static IReadOnlyList<PatchCoreBenchRow> Run(PatchCoreBenchRequest request, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.TrainFrames.Count == 0 || request.TrainFrames.Any(static n => n < 1) || request.TestFrames < 1)
        {
            throw new ArgumentException("--frames and --test-frames must be positive");
        }

        var device = TorchDevices.Parse(request.Device);
        var options = DetectorOptionsJson.With(new PatchCoreOptions(), [$"size={request.Size}"]);
        var test = Rendered("test", 10_000, request.TestFrames).ReadFrames().ToArray();
        var rows = new List<PatchCoreBenchRow>();
        foreach (var count in request.TrainFrames)
        {
            var stopwatch = Stopwatch.StartNew();
            using var fitted = (PatchCoreDetector)new PatchCoreDefinition().Fit(options, [Rendered("train", 0, count)], TrainingFrames.AllNormal, new FitContext(device)).Detector;
            var fitSeconds = stopwatch.Elapsed.TotalSeconds;
            var (framesPerSecond, megabytes) = Time(fitted, test);
            rows.Add(new PatchCoreBenchRow(count, fitSeconds, fitted.BankPatches, fitted.BankPatches * PatchFeatures.Dimension * 4 / 1e6, framesPerSecond, megabytes));
        }

        var autoencoderOptions = new AutoencoderOptions { Epochs = 1 };
        using var autoencoder = new AutoencoderDefinition().Fit(autoencoderOptions, [Rendered("train", 0, Math.Min(200, request.TrainFrames.Min()))], TrainingFrames.AllNormal, new FitContext(device)).Detector;
        var (autoencoderRate, _) = Time(autoencoder, test);

        var table = new Table().AddColumns("train frames", "fit s", "bank patches", "bank MB", "frames/s", "scoring MB", "x autoencoder");
        foreach (var row in rows)
        {
            table.AddRow(
                Text(row.TrainFrames), row.FitSeconds.ToString("F1", CultureInfo.InvariantCulture), Text(row.BankPatches), row.BankMegabytes.ToString("F1", CultureInfo.InvariantCulture),
                row.FramesPerSecond.ToString("F1", CultureInfo.InvariantCulture), row.ScoringMegabytes.ToString("F0", CultureInfo.InvariantCulture),
                (row.FramesPerSecond / autoencoderRate).ToString("F2", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"patchcore {request.Size} px (coreset fraction {((PatchCoreOptions)options).CoresetFraction}), {request.TestFrames} test frames on {request.Device}; autoencoder ({autoencoderOptions.Size} px) {autoencoderRate:F1} frames/s on the same frames"));
        return rows;
    }

    /// <summary>Frames/s scoring <paramref name="frames"/>, and the peak working set scoring added over the level before, MB.</summary>
    private static (double FramesPerSecond, double Megabytes) Time(IAnomalyDetector detector, Frame[] frames)
    {
        detector.ScoreSequence(frames[..Math.Min(frames.Length, 8)]);
        using var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        var before = process.WorkingSet64;
        var peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var sampled = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                sampled.Refresh();
                peak = Math.Max(peak, sampled.WorkingSet64);
                await Task.Delay(5, CancellationToken.None).ConfigureAwait(false);
            }
        });
        var stopwatch = Stopwatch.StartNew();
        detector.ScoreSequence(frames);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        sampling.Cancel();
        sampler.GetAwaiter().GetResult();
        return (frames.Length / Math.Max(seconds, 1e-9), (peak - before) / 1e6);
    }

    /// <summary>A robot cell filmed for <paramref name="count"/> frames from frame <paramref name="first"/>, rendered as read (never all in memory).</summary>
    private static RenderedClip Rendered(string name, int first, int count) => new(name, first, count);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class RenderedClip(string name, int first, int count) : ILabelledClip
    {
        public string Name => name;

        public IReadOnlyList<FrameLabel>? Labels => null;

        public IEnumerable<Frame> ReadFrames()
        {
            var scene = new RobotCellScene(seed: 3, SceneOptions.Background);
            for (var k = first; k < first + count; k++)
            {
                yield return scene.Render(k / 5.0, FrameSide, FrameSide).Frame;
            }
        }

        public BinaryMask? ReadRoi() => null;
    }
}
