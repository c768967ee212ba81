using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Streaming;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Streaming;

public sealed class DetectorFrameScorerTests
{
    private static readonly ScoreCalibration Calibration = new(1, 0, 2, 99);

    private static AutoencoderDetector NewAutoencoder() =>
        new(new ConvAutoencoder(32, 4, 16), new AutoencoderOptions { Size = 32, Width = 4, Code = 16 }, CPU);

    private static DetectorFrameScorer Autoencoder(int grid = 8) => new(NewAutoencoder(), Calibration, grid);

    private static (FrameKey, Frame)[] Batch(params (string Camera, int Seed)[] frames) =>
        frames.Select((f, i) => (new FrameKey(f.Camera, i), TestFrames.Scene(32, f.Seed))).ToArray();

    [Fact]
    public void A_cross_camera_batch_gets_one_verdict_per_frame_equal_to_the_detectors_own_score()
    {
        var detector = NewAutoencoder();
        using var scorer = new DetectorFrameScorer(detector, Calibration, 8);
        var batch = Batch(("a", 1), ("b", 2), ("a", 3));
        var expected = detector.ScoreSequence(batch.Select(static f => f.Item2).ToArray());
        var verdicts = scorer.Score(batch);
        Assert.Equal(3, verdicts.Count);
        Assert.Equal(expected.Select(static v => v.RawScore), verdicts.Select(static v => v.RawScore));
        Assert.Equal("autoencoder", scorer.Detector);
    }

    [Fact]
    public void The_residual_grid_keeps_the_raw_score_as_its_total()
    {
        using var scorer = Autoencoder(grid: 8);
        var verdict = scorer.Score(Batch(("a", 5)))[0];
        Assert.Equal(8, verdict.Residual.Width);
        Assert.Equal(verdict.RawScore, verdict.Residual.Total(), verdict.RawScore * 0.02);
        Assert.Null(verdict.Ignored);
    }

    [Fact]
    public void Scoring_a_batch_leaves_no_live_tensor()
    {
        using var scorer = Autoencoder();
        scorer.Score(Batch(("a", 1)));
        var before = LeakProbe.LiveTensors;
        scorer.Score(Batch(("a", 1), ("b", 2)));
        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    /// <summary>A fake detector of the given history: the score of the last frame is the number of frames it was given.</summary>
    private sealed class WindowLength(int history) : IAnomalyDetector
    {
        public string Kind => "window";

        public int History => history;

        public IReadOnlyList<string> Variants { get; } = ["window"];

        public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames) =>
            frames.Select((f, i) => new RawFrameScore(i + 1, new AnomalyMap(4, 4, new float[16]))).ToArray();

        public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

        public void Dispose() { }
    }

    [Fact]
    public void A_frame_detector_is_called_once_per_batch_whatever_the_cameras()
    {
        using var scorer = new DetectorFrameScorer(new WindowLength(1), Calibration, 4);
        Assert.Equal([1.0, 2, 3], scorer.Score(Batch(("a", 1), ("b", 1), ("a", 1))).Select(static v => v.RawScore));
    }

    [Fact]
    public void A_temporal_detector_sees_each_frame_at_the_end_of_its_own_cameras_window()
    {
        using var scorer = new DetectorFrameScorer(new WindowLength(3), Calibration, 4);
        scorer.Score(Batch(("a", 1), ("a", 1), ("b", 1), ("b", 1)));
        var full = scorer.Score(Batch(("a", 1), ("b", 1), ("a", 1)));
        Assert.Equal([3.0, 3, 3], full.Select(static v => v.RawScore));
    }

    [Fact]
    public void A_cameras_frames_before_its_window_is_full_are_not_judged()
    {
        using var scorer = new DetectorFrameScorer(new WindowLength(3), Calibration, 4);
        var first = scorer.Score(Batch(("a", 1), ("a", 1), ("b", 1)));
        var second = scorer.Score(Batch(("a", 1), ("b", 1), ("a", 1)));
        // a: windows of 1, 2 (not judged), then 3, 3; b: 1, 2 (not judged)
        Assert.Equal([0.0, 0, 0], first.Select(static v => v.RawScore));
        Assert.Equal([3.0, 0, 3], second.Select(static v => v.RawScore));
        Assert.All(first, static v => Assert.Equal(0, v.Residual.Total()));
    }

    /// <summary><see cref="WindowLength"/> that also scores full windows in batches: each last frame scores 10 x the window's length; the batch sizes are recorded.</summary>
    private sealed class BatchedWindows(int history) : IAnomalyDetector, IWindowScorer
    {
        private readonly WindowLength _single = new(history);

        public List<int> Batches { get; } = [];

        public string Kind => "batched";

        public int History => history;

        public IReadOnlyList<string> Variants { get; } = ["batched"];

        public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames) => _single.ScoreSequence(frames);

        public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => [ScoreSequence(frames)];

        public IReadOnlyList<RawFrameScore> ScoreLastFrames(IReadOnlyList<IReadOnlyList<Frame>> windows)
        {
            Batches.Add(windows.Count);
            return windows.Select(w => new RawFrameScore(10 * w.Count, new AnomalyMap(4, 4, new float[16]))).ToArray();
        }

        public void Dispose() { }
    }

    [Fact]
    public void A_detector_that_batches_windows_gets_every_full_window_of_a_batch_in_one_call()
    {
        var detector = new BatchedWindows(2);
        using var scorer = new DetectorFrameScorer(detector, Calibration, 4);
        scorer.Score(Batch(("a", 1), ("b", 1)));                      // both warm up: scored alone, not judged
        var full = scorer.Score(Batch(("a", 1), ("b", 1), ("a", 1)));
        Assert.Equal([3], detector.Batches);
        Assert.Equal([20.0, 20, 20], full.Select(static v => v.RawScore));
    }
}
