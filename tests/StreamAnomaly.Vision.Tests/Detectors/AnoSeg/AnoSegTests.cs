using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.AnoSeg;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using TorchSharp;
using static TorchSharp.torch;

using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

namespace StreamAnomaly.Vision.Tests.Detectors.AnoSeg;

public sealed class HardAugmentationTests
{
    [Fact]
    public void A_quarter_turn_rotates_the_patch_counter_clockwise()
    {
        using var scope = NewDisposeScope();
        var patch = tensor(new float[] { 1, 2, 3, 4 }, [1, 2, 2]);

        Assert.Equal([2f, 4f, 1f, 3f], HardAugmentation.Rotate(patch, 1).data<float>().ToArray());
        Assert.Equal([4f, 3f, 2f, 1f], HardAugmentation.Rotate(patch, 2).data<float>().ToArray());
        Assert.Equal([3f, 1f, 4f, 2f], HardAugmentation.Rotate(patch, 3).data<float>().ToArray());
    }

    [Fact]
    public void Permutation_moves_whole_cells_of_the_four_by_four_grid()
    {
        using var scope = NewDisposeScope();
        var patch = arange(3 * 8 * 8, dtype: ScalarType.Float32).view(3, 8, 8);
        long[] order = [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

        var shuffled = HardAugmentation.Permute(patch, order);

        // cell 0 of the result (top-left 2x2) is the patch's cell 15 (bottom-right 2x2), in every channel
        Assert.Equal(patch.narrow(1, 6, 2).narrow(2, 6, 2).contiguous().data<float>().ToArray(), shuffled.narrow(1, 0, 2).narrow(2, 0, 2).contiguous().data<float>().ToArray());
        Assert.Equal(patch.narrow(1, 4, 2).narrow(2, 2, 2).contiguous().data<float>().ToArray(), shuffled.narrow(1, 2, 2).narrow(2, 4, 2).contiguous().data<float>().ToArray());
        Assert.Equal(patch.sum().item<float>(), shuffled.sum().item<float>());
    }

    [Fact]
    public void Synthetic_anomalies_change_frames_only_inside_their_masks_and_each_within_one_patch()
    {
        using var scope = NewDisposeScope();
        var frames = FrameTensors.ToBatch(PeriodicFrames.Clip(64, 24, 10, 0, seed: 3), 64, 64, CPU);

        var (augmented, masks) = HardAugmentation.Apply(frames, 0.5, 0.1, 0.25, new Random(2));

        var changed = augmented.sub(frames).abs().amax([1], keepdim: true);
        Assert.True(changed.mul(masks.logical_not()).max().item<float>() <= HardAugmentation.Tolerance, "a change outside the mask");
        var marked = 0;
        for (var i = 0; i < 24; i++)
        {
            var mask = masks[i, 0];
            if (mask.sum().item<float>() == 0)
            {
                continue;
            }

            marked++;
            var rows = mask.amax([1]).nonzero().flatten().data<long>().ToArray();
            var columns = mask.amax([0]).nonzero().flatten().data<long>().ToArray();
            Assert.InRange(rows[^1] - rows[0] + 1, 1, 16);
            Assert.InRange(columns[^1] - columns[0] + 1, 1, 16);
        }

        Assert.InRange(marked, 6, 18);
    }

    [Fact]
    public void The_dice_loss_is_zero_for_a_perfect_map_and_near_one_for_a_disjoint_one()
    {
        using var scope = NewDisposeScope();
        var masks = zeros(1, 1, 4, 4);
        masks[0, 0, 0, 0] = 1;
        var perfect = masks.mul(40.ToScalar()).sub(20.ToScalar());
        var disjoint = masks.mul((-40).ToScalar()).add(20.ToScalar());

        Assert.Equal(0, AnoSegLoss.Dice(perfect, masks).item<float>(), 4);
        Assert.Equal(1 - (1.0 / 17), AnoSegLoss.Dice(disjoint, masks).item<float>(), 3);
    }

    [Fact]
    public void The_coordinate_channels_run_from_minus_one_to_one_x_along_rows_y_down_columns()
    {
        using var coordinates = AnoSegNet.Coordinates(2, 3, 5, CPU);

        Assert.Equal([2L, 2L, 3L, 5L], coordinates.shape);
        Assert.Equal([-1f, -0.5f, 0f, 0.5f, 1f], coordinates[1, 0, 2].data<float>().ToArray());
        Assert.Equal([-1f, 0f, 1f], coordinates[0, 1, .., 4].data<float>().ToArray());
    }

    [Fact]
    public void A_patch_side_range_that_is_upside_down_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new AnoSegOptions { MinPatch = 0.3, MaxPatch = 0.2 }));

        Assert.Equal("option 'minPatch': must not exceed maxPatch (0.2)", error.Message);
    }

    [Fact]
    public void A_size_not_a_multiple_of_8_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new AnoSegOptions { Size = 100 }));

        Assert.Equal("option 'size': must be a multiple of 8", error.Message);
    }

    [Fact]
    public void A_peak_window_larger_than_the_input_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new AnoSegOptions { Size = 32, Peak = 40 }));

        Assert.Equal("option 'peak': window 40 must fit the input (32 px)", error.Message);
    }
}

/// <summary>One small AnoSeg (32 px) trained once on periodic background clips.</summary>
public sealed class AnoSegFixture : IDisposable
{
    public const int Size = 32;

    public static readonly AnoSegOptions Options = new() { Size = Size, Width = 8, Epochs = 10, Batch = 8, LearningRate = 5e-3, Peak = 4, MinPatch = 0.15, MaxPatch = 0.35 };

    public AnoSegFixture()
    {
        var clips = new[] { 0.0, 0.5 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 30, 10, start, seed: c))).ToArray();
        var progress = new ProgressRecorder();
        Fitted = new AnoSegDefinition().Fit(Options, clips, TrainingFrames.AllNormal, new FitContext(CPU, Seed: 1, progress));
        Detector = (AnoSegDetector)Fitted.Detector;
        Progress = progress.Reports;
    }

    public FittedDetector Fitted { get; }

    public AnoSegDetector Detector { get; }

    public IReadOnlyList<Training.TrainingProgress> Progress { get; }

    public void Dispose() => Detector.Dispose();
}

[Collection(nameof(SeededTorchCollection))]
public sealed class AnoSegDetectorTests(AnoSegFixture fixture) : IClassFixture<AnoSegFixture>
{
    private const int Size = AnoSegFixture.Size;

    private static (Frame[] Normal, Frame[] Anomalous) Probe()
    {
        var normal = PeriodicFrames.Clip(Size, 12, 10, 0.25, seed: 7);
        var anomalous = normal.Select((f, i) => TestFrames.WithSquare(f, 2 + (i * 2 % 20), 4 + (i % 3), 6, i % 2 == 0 ? null : (128, 128, 128))).ToArray();
        return (normal, anomalous);
    }

    private static double Auroc(IAnomalyDetector detector, Frame[] normal, Frame[] anomalous)
    {
        var scores = detector.ScoreSequence([.. normal, .. anomalous]).Select(static s => s.RawScore).ToArray();
        return BinaryMetrics.Auroc(scores, [.. normal.Select(static _ => 0), .. anomalous.Select(static _ => 1)]);
    }

    [Fact]
    public void Training_separates_foreign_squares_far_better_than_the_untrained_network()
    {
        var (normal, anomalous) = Probe();
        random.manual_seed(1);
        using var untrained = new AnoSegDetector(new AnoSegNet(AnoSegFixture.Options.Width), AnoSegFixture.Options, CPU);

        var trained = Auroc(fixture.Detector, normal, anomalous);
        var initial = Auroc(untrained, normal, anomalous);

        Assert.True(trained >= 0.9 && trained > initial + 0.2, $"trained AUROC {trained}, untrained {initial}");
    }

    [Fact]
    public void The_map_is_the_networks_probability_and_higher_on_the_foreign_square_than_around_it()
    {
        var frame = TestFrames.WithSquare(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7)[0], 4, 4, 6);

        var map = fixture.Detector.ScoreSequence([frame])[0].Residual.Values;

        Assert.All(map, v => Assert.InRange(v, 0f, 1f));
        var inside = map.Where((_, i) => i % Size is >= 4 and < 10 && i / Size is >= 4 and < 10).Average();
        var outside = map.Where((_, i) => !(i % Size is >= 4 and < 10 && i / Size is >= 4 and < 10)).Average();
        Assert.True(inside > 1.5 * outside, $"inside {inside}, outside {outside}");
    }

    [Fact]
    public void Training_lowers_the_epoch_loss()
    {
        var losses = fixture.Progress.Where(static p => p.EpochDone).Select(static p => p.Loss).ToArray();

        Assert.Equal(AnoSegFixture.Options.Epochs, losses.Length);
        Assert.True(losses[^1] < losses[0] * 0.8, $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void The_score_is_the_peak_window_sum_of_the_map()
    {
        var score = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7))[0];
        var map = score.Residual.Values;
        var best = 0.0;
        for (var y = 0; y <= Size - 4; y++)
        {
            for (var x = 0; x <= Size - 4; x++)
            {
                var sum = 0.0;
                for (var dy = 0; dy < 4; dy++)
                {
                    for (var dx = 0; dx < 4; dx++)
                    {
                        sum += map[((y + dy) * Size) + x + dx];
                    }
                }

                best = Math.Max(best, sum);
            }
        }

        Assert.Equal(ScoreReduction.Peak, score.Reduction);
        Assert.Equal(best, score.RawScore, 4);
    }
}
