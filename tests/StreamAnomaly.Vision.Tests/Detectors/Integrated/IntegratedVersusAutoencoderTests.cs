using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

/// <summary>
/// The integrated CNN's reason to exist, on a tiny fixed-seed run at 64 px: a normal object (the magenta
/// square, seen unlabelled in training at other places) must not raise the score past the threshold the way
/// it does for the plain autoencoder (the same network without the normal-object mask), while an object the
/// network never saw (a green square) still must. 30 segmentation epochs (180 steps): at 20 the masks still
/// missed corners of the square, whose leftover residual alone crossed the threshold (the maximum over
/// 16 background frames). Seeds 3 to 7 flagged 1 to 5 of the 12 normal-object frames. Runs alone: the
/// network's initialisation draws on TorchSharp's global generator, which parallel tests would share.
/// </summary>
[Collection(nameof(SeededTorchCollection))]
public sealed class IntegratedVersusAutoencoderTests(ITestOutputHelper output, IntegratedVersusAutoencoderTests.TrainedRun run) : IClassFixture<IntegratedVersusAutoencoderTests.TrainedRun>
{
    private const int Size = TinyNetworks.Size;
    private const int Side = 14;

    /// <summary>The tiny fixed-seed training both tests score with (trained once).</summary>
    public sealed class TrainedRun : IDisposable
    {
        public TrainedRun()
        {
            using var background = FrameTensors.ToByteTensor(TestFrames.Normal(Size, 32), Size, Size);
            using var withObjects = FrameTensors.ToByteTensor(
                Enumerable.Range(0, 48).Select(i => TestFrames.Scene(Size, 500 + i, (Place(i, 0), Place(i, 1), Side))).ToArray(), Size, Size);
            var (network, facts) = IntegratedTrainer.Train(
                background,
                withObjects,
                TinyNetworks.Options(),
                new IntegratedTraining(AutoencoderEpochs: 12, SegmentationEpochs: 30, RefitEpochs: 1, BatchSize: 8, LearningRate: 3e-3, Seed: 3),
                CPU);
            Detector = new IntegratedDetector(network, CPU, infillPasses: new IntegratedOptions().Infill);
            Facts = facts;
        }

        public IntegratedDetector Detector { get; }

        public IntegratedTrainingFacts Facts { get; }

        public void Dispose() => Detector.Dispose();
    }

    /// <summary>A background frame with a green square painted at (x, y).</summary>
    private static Frame GreenSquare(int seed, int x, int y)
    {
        var frame = TestFrames.Scene(Size, seed);
        var bgr = frame.Bgr.ToArray();
        for (var row = y; row < y + Side; row++)
        {
            for (var column = x; column < x + Side; column++)
            {
                var i = ((row * Size) + column) * 3;
                (bgr[i], bgr[i + 1], bgr[i + 2]) = (30, 230, 40);
            }
        }

        return new Frame(Size, Size, bgr);
    }

    /// <summary>Share of the normal-object square at (x, y) covered by the union of the detections' masks.</summary>
    private static double SquareCoverage(IReadOnlyList<SegmentationDetection> detections, int x, int y)
    {
        var covered = 0;
        for (var row = y; row < y + Side; row++)
        {
            for (var column = x; column < x + Side; column++)
            {
                covered += detections.Any(d => d.Mask.Data[(row * Size) + column]) ? 1 : 0;
            }
        }

        return covered / (double)(Side * Side);
    }

    /// <summary>A fixed pseudo-random corner coordinate (the square stays inside the frame).</summary>
    private static int Place(int frame, int axis) => new Random((frame * 2) + axis).Next(2, Size - Side - 2);

    [Fact]
    public void Integrated_cnn_flags_fewer_normal_object_frames_than_the_plain_autoencoder_and_still_flags_unseen_objects()
    {
        var (detector, facts) = (run.Detector, run.Facts);
        var integrated = detector.Variants.ToList().IndexOf("integrated");
        var autoencoder = detector.Variants.ToList().IndexOf("autoencoder");

        var validation = detector.ScoreVariants(TestFrames.Normal(Size, 16, seed: 900));
        var thresholds = new[] { integrated, autoencoder }.ToDictionary(v => v, v => ScoreCalibration.Fit(validation[v].Select(s => s.RawScore), 99).Threshold);
        int Flagged(IReadOnlyList<Frame> frames, int variant) => detector.ScoreVariants(frames)[variant].Count(s => s.RawScore >= thresholds[variant]);

        // normal objects at places between the training positions
        var normal = Enumerable.Range(0, 12).Select(i => TestFrames.Scene(Size, 700 + i, (10 + (i % 3 * 13), 12 + (i / 3 * 10), Side))).ToArray();
        var unseen = Enumerable.Range(0, 12).Select(i => GreenSquare(800 + i, 10 + (i % 3 * 13), 12 + (i / 3 * 10))).ToArray();
        var (normalIntegrated, normalAutoencoder) = (Flagged(normal, integrated), Flagged(normal, autoencoder));
        var unseenIntegrated = Flagged(unseen, integrated);
        using (var bytes = FrameTensors.ToByteTensor(normal, Size, Size))
        using (var probe = FrameTensors.ToUnitFloat(bytes, CPU))
        {
            var found = detector.Network.Detect(probe, detector.Detection);
            var covered = normal.Select((_, i) => found[i].Count == 0 ? 0 : SquareCoverage(found[i], 10 + (i % 3 * 13), 12 + (i / 3 * 10))).ToArray();
            output.WriteLine(
                $"pseudo-labels {facts.Instances} in {facts.LabelledFrames}/48 frames; normal objects flagged: integrated {normalIntegrated}/12, autoencoder {normalAutoencoder}/12; " +
                $"unseen objects flagged by integrated {unseenIntegrated}/12; normal objects detected in {found.Count(f => f.Count > 0)}/12 frames, " +
                $"square covered by their masks {covered.Average():P0} on average (worst {covered.Min():P0})");
        }

        Assert.True(normalAutoencoder >= 9, $"the plain autoencoder flagged only {normalAutoencoder}/12 normal-object frames: the case does not test masking");
        Assert.True(normalIntegrated <= normalAutoencoder - 6, $"integrated flagged {normalIntegrated}/12 normal-object frames vs the autoencoder's {normalAutoencoder}/12");
        Assert.True(unseenIntegrated >= 9, $"integrated flagged only {unseenIntegrated}/12 frames with an unseen object");
    }

    /// <summary>
    /// On this tiny network, whether in-fill lowers the masked score of the normal-object frames
    /// depends on the run: 110.6 against 114.7 in one run and 58.4 against 55.8 in another, as the CPU
    /// kernels do not add in a fixed order. The square barely moves this network's code. So only the
    /// row that must not change is asserted here; the effect in-fill exists for is tested with a
    /// constructed whole-frame bottleneck in <see cref="IntegratedScoringTests"/>.
    /// </summary>
    [Fact]
    public void Infill_leaves_the_plain_autoencoder_row_of_normal_object_frames_alone()
    {
        var trained = run.Detector;
        Assert.Equal(new IntegratedOptions().Infill, trained.InfillPasses);
        var masked = new IntegratedDetector(trained.Network, CPU, trained.Detection, infillPasses: 0); // shares the network; the fixture disposes it
        var autoencoder = trained.Variants.ToList().IndexOf("autoencoder");
        var integrated = trained.Variants.ToList().IndexOf("integrated");
        var grown = trained.Variants.ToList().IndexOf("+dilation 3"); // without in-fill, the mask in-filled scoring uses
        var normal = Enumerable.Range(0, 12).Select(i => TestFrames.Scene(Size, 700 + i, (10 + (i % 3 * 13), 12 + (i / 3 * 10), Side))).ToArray();

        var withInfill = trained.ScoreVariants(normal);
        var without = masked.ScoreVariants(normal);

        Assert.NotEqual(without[grown].Select(s => s.RawScore), withInfill[integrated].Select(s => s.RawScore)); // same mask: only the second reconstruction differs
        Assert.Equal(without[autoencoder].Select(s => s.RawScore), withInfill[autoencoder].Select(s => s.RawScore));
    }
}
