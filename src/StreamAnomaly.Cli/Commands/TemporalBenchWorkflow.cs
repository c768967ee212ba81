using System.Diagnostics;
using System.Globalization;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Synthetic.Scene;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Streaming;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What <c>bench temporal</c> measures.</summary>
/// <param name="Cameras">Cameras of each worker batch (one frame each).</param>
/// <param name="Rounds">Timed batches per way of scoring.</param>
/// <param name="Settings">Temporal options as name=value over the defaults (size, window, ...).</param>
/// <param name="Device">cpu or cuda.</param>
internal sealed record TemporalBenchRequest(int Cameras, int Rounds, IReadOnlyList<string> Settings, string Device);

/// <summary>Frames/s of the two ways a worker scores the temporal detector's windows.</summary>
internal sealed record TemporalBenchResult(double PerWindowFramesPerSecond, double BatchedFramesPerSecond)
{
    public double Ratio => BatchedFramesPerSecond / PerWindowFramesPerSecond;
}

/// <summary>
/// <c>bench temporal</c>: a worker's temporal scorer (<see cref="DetectorFrameScorer"/>) on batches
/// of one robot-cell frame per camera, every camera's window full, timed in one run two ways: each
/// camera's window scored alone (as before windows were batched) and every window of the batch in
/// one pass, each after an untimed warm-up (<see cref="IWindowScorer"/>). The networks are untrained: speed does not depend on the weights.
/// </summary>
internal static class TemporalBenchWorkflow
{
    public static TemporalBenchResult Run(TemporalBenchRequest request, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(request);
        var device = TorchDevices.Parse(request.Device);
        var options = (TemporalOptions)DetectorOptionsJson.With(new TemporalOptions(), request.Settings);
        using var detector = new TemporalDetector(TemporalDetector.Build(options), options, new CycleFacts(10, new double[10], options.Transition, 0), device);
        var frames = Frames(options.Window + 1 + request.Rounds, options.Size);

        var calibration = new Core.Scoring.ScoreCalibration(1, 0, 2, 99);
        var alone = new DetectorFrameScorer(new OneWindowAtATime(detector), calibration);
        var together = new DetectorFrameScorer(new OneWindowAtATime(detector, batched: true), calibration);
        WarmUp(alone, frames, request.Cameras, options.Window);
        WarmUp(together, frames, request.Cameras, options.Window);
        var perWindow = Time(alone, frames, request.Cameras, options.Window);
        var batched = Time(together, frames, request.Cameras, options.Window);
        var result = new TemporalBenchResult(perWindow, batched);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"temporal {options.Size} px, window {options.Window}, {request.Cameras} cameras x {request.Rounds} batches on {request.Device}: each window alone {perWindow:F1} frames/s, windows batched {batched:F1} frames/s ({result.Ratio:F2}x)"));
        return result;
    }

    private static IReadOnlyList<(FrameKey, Frame)> Batch(Frame[] frames, int cameras, int k) =>
        [.. Enumerable.Range(0, cameras).Select(c => (new FrameKey($"cam-{c}", k), frames[k]))];

    /// <summary>Fills every camera's window and scores one full batch, untimed (first calls allocate and compile).</summary>
    private static void WarmUp(DetectorFrameScorer scorer, Frame[] frames, int cameras, int window)
    {
        for (var k = 0; k <= window; k++)
        {
            scorer.Score(Batch(frames, cameras, k));
        }
    }

    /// <summary>Frames/s over the batches after the warm-up.</summary>
    private static double Time(DetectorFrameScorer scorer, Frame[] frames, int cameras, int window)
    {
        var watch = Stopwatch.StartNew();
        for (var k = window + 1; k < frames.Length; k++)
        {
            scorer.Score(Batch(frames, cameras, k));
        }

        return (frames.Length - window - 1) * cameras / watch.Elapsed.TotalSeconds;
    }

    private static Frame[] Frames(int count, int size)
    {
        var scene = new RobotCellScene(seed: 3, SceneOptions.Background);
        return [.. Enumerable.Range(0, count).Select(k => scene.Render(k / 5.0, size, size).Frame)];
    }

    /// <summary>The detector as a scorer sees it, with its window batching hidden unless <paramref name="batched"/>; never disposes it.</summary>
    private sealed class OneWindowAtATime(TemporalDetector detector, bool batched = false) : IAnomalyDetector, IWindowScorer
    {
        public string Kind => detector.Kind;

        public int History => detector.History;

        public IReadOnlyList<string> Variants => detector.Variants;

        public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames) => detector.ScoreSequence(frames);

        public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => detector.ScoreVariants(frames, context);

        public IReadOnlyList<RawFrameScore> ScoreLastFrames(IReadOnlyList<IReadOnlyList<Frame>> windows) =>
            batched ? detector.ScoreLastFrames(windows) : [.. windows.Select(w => detector.ScoreSequence(w)[^1])];

        public void Dispose()
        {
        }
    }
}
