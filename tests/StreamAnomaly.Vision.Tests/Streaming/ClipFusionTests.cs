using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Streaming;
using StreamAnomaly.Vision.Tests.Detectors.Cycle;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Tests.Detectors.PatchCore;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;

namespace StreamAnomaly.Vision.Tests.Streaming;

/// <summary>
/// Offline fusion (what <c>eval</c> reports for several bundles) against the path frames take in a
/// worker and an aggregator: the same detectors scoring one camera frame by frame through
/// <see cref="DetectorFrameScorer"/>, the verdicts joined as partial results and fused.
/// </summary>
[Collection(nameof(SeededTorchCollection))]
public sealed class ClipFusionTests(CycleFixture cycle, PatchCoreFixture patchCore) : IClassFixture<CycleFixture>, IClassFixture<PatchCoreFixture>
{
    private const int Grid = 8;

    /// <summary>A camera running its cycle, then stalling with a foreign square in view.</summary>
    private static Frame[] Clip()
    {
        var running = PeriodicFrames.Clip(CycleFixture.Size, 24, CycleFixture.Period, 0.2, seed: 11);
        return [.. running.Take(16), .. Enumerable.Repeat(running[15], 8).Select((f, i) => i < 4 ? f : TestFrames.WithSquare(f, 4, 4, 12))];
    }

    private static ScoreCalibration CalibrationOf(IAnomalyDetector detector, Frame[] normal) =>
        ScoreCalibration.Fit(detector.ScoreSequence(normal).Select(static s => s.RawScore), 99);

    [Fact]
    public void Offline_fusion_gives_every_frame_the_score_the_pipeline_gives_it()
    {
        var frames = Clip();
        var normal = PeriodicFrames.Clip(CycleFixture.Size, 20, CycleFixture.Period, 0.6, seed: 12);
        IAnomalyDetector[] detectors = [patchCore.Detector, cycle.Detector];
        var calibrations = detectors.Select(d => CalibrationOf(d, normal)).ToArray();

        var offline = ClipFusion.Fuse(
            detectors.Select((d, k) => new DetectorScores(d.Kind, calibrations[k], DetectorLifecycle.ScoreClip(d, new FrameClip("clip", frames))[0]!)).ToArray(),
            Grid);

        var scorers = detectors.Select((d, k) => new DetectorFrameScorer(new Borrowed(d), calibrations[k], Grid)).ToArray();
        var copies = frames.Select(static f => new Frame(f.Width, f.Height, f.Bgr.ToArray())); // as decoded again by a worker: no features shared
        var live = copies.Select((frame, i) =>
        {
            var key = new FrameKey("cam", i);
            var partials = scorers.Select(s =>
            {
                var v = s.Score([(key, frame)])[0];
                return new PartialResult(key, "line", DateTimeOffset.UnixEpoch, s.Detector, scorers.Length, v.RawScore, s.Calibration, v.Residual, v.Ignored, v.Phase);
            }).ToArray();
            return FrameFusion.Fuse(partials, complete: true).Score;
        }).ToArray();

        // Equal up to float rounding: the pretrained network's convolutions round differently for a batch of 1 and of 8.
        Assert.All(live.Zip(offline), pair => Assert.Equal(pair.First, pair.Second.RawScore, 1e-4));
        Assert.True(offline[^1].RawScore > offline[10].RawScore, $"stalled with a foreign square {offline[^1].RawScore}, running {offline[10].RawScore}");
    }

    [Fact]
    public void The_fused_frame_keeps_the_phase_of_the_detector_that_tracks_the_cycle()
    {
        var frames = Clip();
        var scores = cycle.Detector.ScoreSequence(frames);
        var calibration = new ScoreCalibration(1, 0, 2, 99);

        var fused = ClipFusion.Fuse([new DetectorScores("patchcore", calibration, patchCore.Detector.ScoreSequence(frames)), new DetectorScores("cycle", calibration, scores)], Grid);

        Assert.Equal(scores.Select(static s => s.Phase), fused.Select(static s => s.Phase));
    }

    [Fact]
    public void Detectors_that_scored_different_numbers_of_frames_are_refused_naming_them()
    {
        var frames = Clip();
        var calibration = new ScoreCalibration(1, 0, 2, 99);

        var error = Assert.Throws<ArgumentException>(() => ClipFusion.Fuse(
            [new DetectorScores("patchcore", calibration, patchCore.Detector.ScoreSequence(frames)), new DetectorScores("cycle", calibration, cycle.Detector.ScoreSequence(frames[1..]))], Grid));

        Assert.Contains("cycle scored 23 frames, patchcore 24", error.Message);
    }

    /// <summary>Lends a fixture's detector to a scorer without letting the scorer dispose it.</summary>
    private sealed class Borrowed(IAnomalyDetector inner) : IAnomalyDetector
    {
        public string Kind => inner.Kind;

        public int History => inner.History;

        public IReadOnlyList<string> Variants => inner.Variants;

        public IReadOnlyList<RawFrameScore> ScoreSequence(IReadOnlyList<Frame> frames) => inner.ScoreSequence(frames);

        public IReadOnlyList<IReadOnlyList<RawFrameScore>?> ScoreVariants(IReadOnlyList<Frame> frames, ScoringContext context) => inner.ScoreVariants(frames, context);

        public void Dispose()
        {
        }
    }
}
