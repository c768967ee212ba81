using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

/// <summary>Runs alone: the head-reset test seeds TorchSharp's global generator, which parallel tests would also draw from.</summary>
[Collection(nameof(SeededTorchCollection))]
public sealed class LabelSourceComparisonTests
{
    private const int Size = TinyNetworks.Size;

    /// <summary>uint8 frames [n, 3, 64, 64]: grey background with a bright square at (12..23, 8..19) in every frame.</summary>
    private static Tensor Frames(int n)
    {
        var values = new byte[n * 3 * Size * Size];
        for (var i = 0; i < n; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                for (var y = 0; y < Size; y++)
                {
                    for (var x = 0; x < Size; x++)
                    {
                        var inSquare = x is >= 12 and < 24 && y is >= 8 and < 20;
                        values[(((i * 3) + c) * Size * Size) + (y * Size) + x] = inSquare ? (byte)(c == 1 ? 20 : 240) : (byte)(80 + x + i);
                    }
                }
            }
        }

        return tensor(values, [n, 3, Size, Size]);
    }

    private static BinaryMask Square() =>
        new(Size, Size, Enumerable.Range(0, Size * Size).Select(p => p % Size is >= 12 and < 24 && p / Size is >= 8 and < 20).ToArray());

    private static Dictionary<string, float[]> Weights(IntegratedNetwork network) =>
        network.state_dict().ToDictionary(p => p.Key, p => p.Value.cpu().to_type(ScalarType.Float32).data<float>().ToArray());

    [Fact]
    public void Ground_truth_masks_become_one_instance_per_connected_component()
    {
        var data = new bool[32 * 32];
        for (var y = 2; y < 6; y++)
        {
            for (var x = 3; x < 9; x++)
            {
                data[(y * 32) + x] = true;       // a 6 x 4 block
            }
        }

        data[(20 * 32) + 20] = true;             // a single pixel: ground truth keeps it
        var mask = new BinaryMask(32, 32, data);

        var source = LabelSourceComparison.GroundTruth([mask, BinaryMask.Empty(32, 32)], 32, 32);

        Assert.Null(source.FramesPerSecond);
        Assert.Equal(1, source.LabelledFrames);
        Assert.Equal(2, source.Instances);
        Assert.Equal(24, source.Labels[0].Instances[0].Mask.Area);
        Assert.Equal(1, source.Labels[0].Instances[1].Mask.Area);
        Assert.Equal(mask.Data, source.Labels[0].Instances.Select(i => i.Mask.Data).Aggregate((a, b) => a.Zip(b, (u, v) => u || v).ToArray()));
    }

    [Fact]
    public void Reset_segmentation_head_matches_a_fresh_network_of_the_same_seed_and_keeps_the_backbone()
    {
        random.manual_seed(1);
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        var before = Weights(network);

        network.ResetSegmentationHead(seed: 3);
        random.manual_seed(3);
        using var freshHead = new SegmentationHead(16, 4, 2, TinyNetworks.Options().Anchors.AnchorsPerLocation);

        var after = Weights(network);
        var fresh = freshHead.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
        Assert.All(fresh, p => Assert.Equal(p.Value, after["segmentation_head." + p.Key]));
        Assert.All(after.Where(p => !p.Key.StartsWith("segmentation_head.", StringComparison.Ordinal)), p => Assert.Equal(before[p.Key], p.Value));
        Assert.Contains(after, p => p.Key.StartsWith("segmentation_head.", StringComparison.Ordinal) && !p.Value.SequenceEqual(before[p.Key]));
    }

    [Fact]
    public void Compare_restores_the_network_after_every_row_and_leaves_no_tensor_behind()
    {
        random.manual_seed(1);
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var train = Frames(4);
        using var evaluated = Frames(2);
        var truth = new[] { Square() };
        var gt = LabelSourceComparison.GroundTruth(Enumerable.Repeat(Square(), 4), Size, Size);
        var inverted = new LabelSource("inverted", gt.Labels.Select(l => new SegmentationTargets([l.Instances[0] with { Mask = l.Instances[0].Mask.Inverted() }])).ToArray(), 1);
        var before = Weights(network);
        var live = LeakProbe.LiveTensors;

        var rows = LabelSourceComparison.Compare(network, train, [gt, inverted], evaluated, [truth, truth], new IntegratedTraining(SegmentationEpochs: 2, BatchSize: 2, Seed: 5), freezeBackbone: false, CPU);

        Assert.Equal(live, LeakProbe.LiveTensors);
        Assert.Equal(["ground truth", "inverted"], rows.Select(r => r.Source.Name));
        Assert.All(rows, r => Assert.InRange(r.Ap.Ap50, 0, 1));
        var after = Weights(network);
        Assert.All(before, p => Assert.Equal(p.Value, after[p.Key]));
    }

    [Fact]
    public void Pseudo_labels_come_in_the_papers_three_variants_with_a_speed_each()
    {
        random.manual_seed(1);
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var frames = Frames(3);

        var sources = LabelSourceComparison.PseudoLabels(network, frames, threshold: 0.01, CPU, TimeProvider.System);

        Assert.Equal(LabelSourceComparison.PseudoLabelVariants.Select(v => v.Name), sources.Select(s => s.Name));
        Assert.All(sources, s => Assert.Equal(3, s.Labels.Count));
        Assert.All(sources, s => Assert.True(s.FramesPerSecond > 0));
        // an untrained decoder leaves a large residual on the bright square: every variant finds something
        Assert.All(sources, s => Assert.True(s.Instances > 0, $"{s.Name} found no instance"));
    }

    [Fact]
    public void Train_segmentation_head_refuses_labels_without_any_instance()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var frames = Frames(2);

        var error = Assert.Throws<ArgumentException>(() => IntegratedTrainer.TrainSegmentationHead(
            network, frames, [SegmentationTargets.None, SegmentationTargets.None], new IntegratedTraining(), CPU, freezeBackbone: true));

        Assert.Contains("none of the 2 frames has a labelled instance", error.Message);
    }

    [Fact]
    public void Ground_truth_agrees_with_itself_instance_by_instance()
    {
        var truth = LabelSourceComparison.GroundTruth([Square(), BinaryMask.Empty(Size, Size)], Size, Size).Labels;

        Assert.Equal(new Core.Evaluation.InstanceAgreement(1, 0, 0, 1.0), LabelSourceComparison.Agreement(truth, truth));
    }

    [Fact]
    public void Agreement_refuses_labels_for_another_number_of_frames()
    {
        var truth = LabelSourceComparison.GroundTruth([Square()], Size, Size).Labels;

        Assert.Throws<ArgumentException>(() => LabelSourceComparison.Agreement([], truth));
    }
}
