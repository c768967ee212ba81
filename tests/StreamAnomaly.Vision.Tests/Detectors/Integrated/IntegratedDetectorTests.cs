using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

public sealed class IntegratedScoringTests
{
    /// <summary>Residual 1 everywhere on a 4x4 frame; a normal object covers the 2x2 block at (1,1).</summary>
    private static (Tensor Residual, Tensor Objects) Case()
    {
        var residual = ones(1, 4, 4);
        var objects = zeros(1, 1, 4, 4);
        objects[0, 0, 1, 1] = tensor(1f);
        objects[0, 0, 1, 2] = tensor(1f);
        objects[0, 0, 2, 1] = tensor(1f);
        objects[0, 0, 2, 2] = tensor(1f);
        return (residual, objects);
    }

    [Fact]
    public void Masking_removes_the_normal_object_from_the_score_and_the_map()
    {
        using var scope = NewDisposeScope();
        var (residual, objects) = Case();
        var (raw, map) = new IntegratedScoring("integrated").Apply(residual, objects);
        Assert.Equal(12.0, raw.item<float>(), 5);
        Assert.Equal(0f, map[0, 1, 1].item<float>());
        Assert.Equal(1f, map[0, 0, 0].item<float>());
    }

    [Fact]
    public void The_plain_autoencoder_variant_scores_every_pixel()
    {
        using var scope = NewDisposeScope();
        var (residual, objects) = Case();
        Assert.Equal(16.0, new IntegratedScoring("autoencoder", UseMask: false).Apply(residual, objects).Raw.item<float>(), 5);
    }

    [Fact]
    public void Dilation_grows_the_mask_by_that_many_pixels()
    {
        using var scope = NewDisposeScope();
        var (residual, objects) = Case();
        // a 2x2 block grown by 1 px in every direction (square kernel) covers the whole 4x4 frame
        Assert.Equal(0.0, new IntegratedScoring("+dilation 1", Dilation: 1).Apply(residual, objects).Raw.item<float>(), 5);
    }

    [Fact]
    public void A_minimum_dilation_grows_the_mask_of_an_undilated_variant_but_not_a_wider_one()
    {
        using var scope = NewDisposeScope();
        var residual = ones(1, 8, 8);
        var objects = zeros(1, 1, 8, 8);
        objects[0, 0, 4, 4] = tensor(1f);
        // one pixel grown by 1: 3 x 3 masked; by 2: 5 x 5
        Assert.Equal(64.0 - 9, new IntegratedScoring("integrated").Apply(residual, objects, minimumDilation: 1).Raw.item<float>(), 5);
        Assert.Equal(64.0 - 25, new IntegratedScoring("+dilation 2", Dilation: 2).Apply(residual, objects, minimumDilation: 1).Raw.item<float>(), 5);
        Assert.Equal(64.0, new IntegratedScoring("autoencoder", UseMask: false).Apply(residual, objects, minimumDilation: 1).Raw.item<float>(), 5);
    }

    [Fact]
    public void The_biased_loss_subtracts_a_share_of_the_residual_inside_the_mask()
    {
        using var scope = NewDisposeScope();
        var (residual, objects) = Case();
        // 12 outside - 0.5 * 4 inside
        Assert.Equal(10.0, new IntegratedScoring("+biased loss", Bias: 0.5).Apply(residual, objects).Raw.item<float>(), 5);
    }

    [Fact]
    public void A_peak_window_scores_the_densest_unmasked_corner()
    {
        using var scope = NewDisposeScope();
        var (residual, objects) = Case();
        // every 2x2 window touches the masked centre; the corner ones keep 3 of their 4 pixels
        Assert.Equal(3.0, new IntegratedScoring("integrated").Apply(residual, objects, peak: 2).Raw.item<float>(), 5);
    }

    [Fact]
    public void Infill_replaces_the_grown_objects_by_the_last_reconstruction_once_per_pass()
    {
        using var scope = NewDisposeScope();
        var input = ones(1, 1, 8, 8);
        var objects = zeros(1, 1, 8, 8);
        objects[0, 0, 3, 3] = tensor(1f);
        static Tensor AddOne(Tensor frame) => frame + 1;

        // pass 1 rebuilds 1 outside and the first reconstruction (0) inside: 2 outside, 1 inside;
        // pass 2 rebuilds 1 outside and that 1 inside: 2 everywhere
        var once = IntegratedDetector.Infill(AddOne, input, zeros(1, 1, 8, 8), objects, passes: 1, margin: 1);
        var twice = IntegratedDetector.Infill(AddOne, input, zeros(1, 1, 8, 8), objects, passes: 2, margin: 1);

        Assert.Equal(1f, once[0, 0, 2, 4].item<float>()); // corner of the object grown by 1 px
        Assert.Equal(1f, once[0, 0, 3, 3].item<float>());
        Assert.Equal(2f, once[0, 0, 1, 3].item<float>()); // 2 px away: the input was kept
        Assert.Equal(9f, once.eq(1f).sum().item<long>());
        Assert.Equal(2f, twice.min().item<float>());
        Assert.Equal(2f, twice.max().item<float>());
    }

    [Fact]
    public void Infill_undoes_the_shift_a_normal_object_gives_a_whole_frame_bottleneck()
    {
        using var scope = NewDisposeScope();
        // A one-float bottleneck: the reconstruction is the frame's mean everywhere, so the object
        // (a 4x4 patch of 1 on a 16x16 frame of 0.5) shifts the whole reconstruction, as a hand
        // shifts the 2 KB code. Outside the object the first reconstruction is 0.5 + 16 x 0.5 / 256.
        var input = full(1, 1, 16, 16, 0.5f);
        input[0, 0, TensorIndex.Slice(0, 4), TensorIndex.Slice(0, 4)] = tensor(1f);
        var objects = zeros(1, 1, 16, 16);
        objects[0, 0, TensorIndex.Slice(0, 4), TensorIndex.Slice(0, 4)] = tensor(1f);
        static Tensor Mean(Tensor frame) => frame.mean([2, 3], keepdim: true).expand_as(frame);

        var first = Mean(input);
        var infilled = IntegratedDetector.Infill(Mean, input, first, objects, passes: 1, margin: 1);

        // in-fill: the object grown by 1 px (5x5 = 25 pixels in the corner) takes the first
        // reconstruction, 0.53125; the new mean is (231 x 0.5 + 25 x 0.53125) / 256 = 0.50305...
        Assert.Equal(0.53125f, first[0, 0, 15, 15].item<float>(), 6);
        Assert.Equal(((231 * 0.5) + (25 * 0.53125)) / 256, infilled[0, 0, 15, 15].item<float>(), 6);
        var (before, after) = (Math.Abs(first[0, 0, 15, 15].item<float>() - 0.5), Math.Abs(infilled[0, 0, 15, 15].item<float>() - 0.5));
        Assert.True(after < before / 5, $"residual outside the object: {after} after in-fill, {before} before");
    }

    [Fact]
    public void Table5_lists_the_integrated_cnn_first_and_every_ablation_row()
    {
        Assert.Equal(["integrated", "autoencoder", "+dilation 3", "+dilation 5", "+biased loss"], IntegratedScoring.Table5.Select(v => v.Name));
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class IntegratedTrainerTests
{
    private static readonly IntegratedNetworkOptions Tiny = new()
    {
        Depth = "resnet18",
        WidthDivisor = 8,
        PyramidChannels = 16,
        InputHeight = 64,
        InputWidth = 64,
        CodeSize = 32,
        DecoderWidth = 8,
        SqueezeChannels = 8,
        Prototypes = 4,
    };

    [Fact]
    public void Three_stages_pseudo_label_the_unseen_squares_and_yield_a_bundle_that_scores_identically_after_loading()
    {
        using var background = FrameTensors.ToByteTensor(TestFrames.Normal(64, 24), 64, 64);
        using var withObjects = FrameTensors.ToByteTensor(
            Enumerable.Range(0, 12).Select(i => TestFrames.Scene(64, 500 + i, (8 + (i * 3), 20, 14))).ToArray(), 64, 64);
        var progress = new ProgressRecorder();
        var options = IntegratedOptions.Describing(Tiny) with { Epochs = 12, SegmentationEpochs = 2, RefitEpochs = 1, Batch = 8, LearningRate = 3e-3 };
        var (detector, facts) = IntegratedTrainer.Train(background, withObjects, options, new FitContext(CPU, Seed: 3, progress));
        using (detector)
        {
            Assert.Equal(["autoencoder", "segmentation", "decoder refit"], progress.Stages);
            Assert.True(facts.LabelledFrames >= 6, $"only {facts.LabelledFrames} of 12 frames got a pseudo-label");
            Assert.True(detector.Network.ResidualScale.max().item<float>() > detector.Network.ResidualScale.min().item<float>(), "the residual scale was fitted per pixel");

            var path = Path.Combine(Path.GetTempPath(), $"int-{Guid.NewGuid():N}.sabundle");
            try
            {
                var calibration = new ScoreCalibration(1, 0, 2, 99);
                DetectorCatalog.CreateBundle(detector, detector.Variants.ToDictionary(v => v, _ => calibration), new Dictionary<string, string>(), DateTimeOffset.UnixEpoch).Save(path);
                using var loaded = DetectorCatalog.Load(path, CPU);
                var frames = TestFrames.Normal(64, 2, seed: 77);
                Assert.Equal(detector.ScoreSequence(frames).Select(s => s.RawScore), loaded.Detector.ScoreSequence(frames).Select(s => s.RawScore));
                Assert.Equal(5, loaded.Manifest.Calibrations.Count);
                Assert.Equal(options, loaded.Detector.Options);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public void A_scaled_detector_scores_the_residual_divided_by_the_residual_scale_and_keeps_that_in_its_bundle()
    {
        random.manual_seed(4);
        var network = new IntegratedNetwork(Tiny);
        using var plain = new IntegratedDetector(network, CPU, new PostprocessOptions { ScoreThreshold = 1.1 }); // owns the network
        var scaled = new IntegratedDetector(network, CPU, new PostprocessOptions { ScoreThreshold = 1.1 }, scaled: true);
        network.SetResidualScale(new Core.Imaging.AnomalyMap(64, 64, Enumerable.Repeat(4f, 64 * 64).ToArray()));
        var frames = TestFrames.Normal(64, 2);

        var expected = plain.ScoreSequence(frames).Select(s => s.RawScore / 4).ToArray();
        var actual = scaled.ScoreSequence(frames).Select(s => s.RawScore).ToArray();

        Assert.Equal(expected[0], actual[0], 3);
        Assert.Equal(expected[1], actual[1], 3);
        Assert.True(scaled.Options.Scaled);
        Assert.False(plain.Options.Scaled);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Scoring_every_variant_leaves_no_live_tensor_behind(int infillPasses)
    {
        // score threshold 0: every frame has normal objects, so the in-fill passes run
        using var detector = new IntegratedDetector(new IntegratedNetwork(Tiny), CPU, new PostprocessOptions { ScoreThreshold = 0.0 }, infillPasses: infillPasses);
        var frames = TestFrames.Normal(64, 3);
        detector.ScoreVariants(frames);
        var before = LeakProbe.LiveTensors;
        var scores = detector.ScoreVariants(frames);
        Assert.Equal(before, LeakProbe.LiveTensors);
        Assert.Equal(5, scores.Count);
        Assert.All(scores, s => Assert.Equal(3, s.Count));
    }

    [Fact]
    public void Infill_changes_no_score_of_frames_without_a_normal_object()
    {
        random.manual_seed(7);
        var network = new IntegratedNetwork(Tiny);
        var noObjects = new PostprocessOptions { ScoreThreshold = 1.1 };
        using var plain = new IntegratedDetector(network, CPU, noObjects); // owns the network
        var infilled = new IntegratedDetector(network, CPU, noObjects, infillPasses: 2);
        var frames = TestFrames.Normal(64, 2);

        Assert.Equal(plain.ScoreVariants(frames).SelectMany(v => v.Select(s => s.RawScore)), infilled.ScoreVariants(frames).SelectMany(v => v.Select(s => s.RawScore)));
    }

    [Fact]
    public void Empty_true_masks_score_the_integrated_row_as_the_plain_autoencoder_row()
    {
        // score threshold 0: the head finds objects in every frame, the given empty masks overrule it
        random.manual_seed(3);
        using var detector = new IntegratedDetector(new IntegratedNetwork(Tiny), CPU, new PostprocessOptions { ScoreThreshold = 0.0 }, infillPasses: 1);
        var frames = TestFrames.Normal(64, 2);
        var empty = frames.Select(_ => BinaryMask.Empty(64, 64)).ToArray();

        var headRow = detector.ScoreVariants(frames, IntegratedScoring.Table5);
        var trueRow = detector.ScoreVariants(frames, [IntegratedScoring.Table5[0]], empty)[0];

        Assert.Equal(headRow[1].Select(s => s.RawScore), trueRow.Select(s => s.RawScore));
        Assert.NotEqual(headRow[0].Select(s => s.RawScore), trueRow.Select(s => s.RawScore));
    }

    [Fact]
    public void True_masks_of_another_size_are_resized_and_replace_the_heads_objects()
    {
        // score threshold 1.1: the head finds nothing; the given 32 px masks cover the left half
        random.manual_seed(3);
        using var detector = new IntegratedDetector(new IntegratedNetwork(Tiny), CPU, new PostprocessOptions { ScoreThreshold = 1.1 });
        var frames = TestFrames.Normal(64, 2);
        var leftHalf = new BinaryMask(32, 32, Enumerable.Range(0, 32 * 32).Select(p => p % 32 < 16).ToArray());

        var scores = detector.ScoreVariants(frames, [IntegratedScoring.Table5[0]], [leftHalf, leftHalf])[0];

        Assert.All(scores, s => Assert.Equal(64 * 32, s.Ignored!.Area));
        Assert.All(scores, s => Assert.True(s.Ignored!.Data[(10 * 64) + 31] && !s.Ignored.Data[(10 * 64) + 32]));
        Assert.All(scores, s => Assert.Equal(0f, s.Residual.Values[(10 * 64) + 5]));
    }

    [Fact]
    public void True_masks_must_match_the_frames_one_to_one()
    {
        using var detector = new IntegratedDetector(new IntegratedNetwork(Tiny), CPU);
        var frames = TestFrames.Normal(64, 2);

        var error = Assert.Throws<ArgumentException>(() => detector.ScoreVariants(frames, IntegratedScoring.Table5, [BinaryMask.Empty(64, 64)]));

        Assert.StartsWith("1 normal-object masks for 2 frames", error.Message);
    }
}
