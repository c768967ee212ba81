using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

/// <summary>Runs alone: the descent test seeds TorchSharp's global generator, which parallel tests would also draw from.</summary>
[Collection(nameof(SeededTorchCollection))]
public sealed class SegmentationLossTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private static SegmentationTargets OneSquare()
    {
        var data = new bool[64 * 64];
        for (var y = 16; y < 48; y++)
        {
            for (var x = 16; x < 48; x++)
            {
                data[(y * 64) + x] = true;
            }
        }

        return new SegmentationTargets([new InstanceTarget(new BoundingBox(0.25f, 0.25f, 0.75f, 0.75f), new BinaryMask(64, 64, data))]);
    }

    [Fact]
    public void Matching_marks_positive_negative_and_neutral_priors_and_forces_each_best_prior()
    {
        using var scope = NewDisposeScope();
        // Priors [cx, cy, w, h]: exact match, IoU 0.45 (neutral), disjoint, and one of IoU 0.16 with
        // the second (tiny) truth, forced positive because it is that truth's best prior.
        var priors = tensor(new float[]
        {
            0.5f, 0.5f, 0.2f, 0.2f,
            0.5f, 0.5f, 0.2f, 0.2f / 0.45f,
            0.1f, 0.1f, 0.1f, 0.1f,
            0.9f, 0.9f, 0.05f, 0.05f,
        }, [4, 4]);
        var truths = tensor(new float[] { 0.4f, 0.4f, 0.6f, 0.6f, 0.89f, 0.89f, 0.91f, 0.91f }, [2, 4]);
        var labels = tensor(new long[] { 1, 1 });
        var (classes, boxes, truth) = SegmentationLoss.Match(truths, labels, priors);
        Assert.Equal([1L, -1L, 0L, 1L], classes.data<long>().ToArray());
        Assert.Equal(0L, truth[0].item<long>());
        Assert.Equal(1L, truth[3].item<long>());
        Assert.True(boxes[0].abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void Image_without_instances_is_all_background()
    {
        using var scope = NewDisposeScope();
        var (classes, _, _) = SegmentationLoss.Match(zeros(0, 4), zeros(0, dtype: ScalarType.Int64), PriorBoxes.ForInput(64, 64, new AnchorOptions()));
        Assert.Equal(0L, classes.abs().sum().item<long>());
    }

    [Fact]
    public void Loss_is_finite_and_decreases_on_one_tiny_batch()
    {
        manual_seed(7);
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        network.train();
        network.ConfigureForStage(TrainingStage.Segmentation);
        using var priors = network.CreatePriors();
        using var images = rand(2, 3, 64, 64);
        var targets = new[] { OneSquare(), OneSquare() };
        using var optimizer = optim.Adam(network.TrainableParameters(), lr: 1e-2);
        var losses = new List<float>();
        for (var step = 0; step < 8; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var output = network.Segment(images);
            using var loss = SegmentationLoss.Compute(output, priors, targets);
            Assert.True(loss.Positives > 0);
            Assert.True(float.IsFinite(loss.Class.item<float>()) && float.IsFinite(loss.Box.item<float>()) && float.IsFinite(loss.Mask.item<float>()));
            loss.Total.backward();
            optimizer.step();
            losses.Add(loss.Total.item<float>());
            log.WriteLine($"step {step}: total {loss.Total.item<float>():F4} class {loss.Class.item<float>():F4} box {loss.Box.item<float>():F4} mask {loss.Mask.item<float>():F4} positives {loss.Positives}");
        }

        Assert.All(losses, l => Assert.True(float.IsFinite(l)));
        Assert.True(losses[^1] < losses[0] * 0.9, $"losses: {string.Join(", ", losses)}");
    }

    [Fact]
    public void Targets_must_match_the_batch()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var priors = network.CreatePriors();
        using var images = rand(2, 3, 64, 64);
        using var output = network.Segment(images);
        Assert.Throws<ArgumentException>(() => SegmentationLoss.Compute(output, priors, [OneSquare()]));
    }

    [Fact]
    public void Loss_leaves_no_live_tensor_behind()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var priors = network.CreatePriors();
        using var images = rand(2, 3, 64, 64);
        var targets = new[] { OneSquare(), SegmentationTargets.None };
        using (var warmOutput = network.Segment(images))
        using (var warmLoss = SegmentationLoss.Compute(warmOutput, priors, targets))
        {
            warmLoss.Total.backward();
        }

        var before = LeakProbe.LiveTensors;
        using (var output = network.Segment(images))
        using (var loss = SegmentationLoss.Compute(output, priors, targets))
        {
            loss.Total.backward();
        }

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}

[CollectionDefinition(nameof(SeededTorchCollection), DisableParallelization = true)]
public sealed class SeededTorchCollection;
