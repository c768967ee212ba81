using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Tests.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

/// <summary>The integrated CNN on the pretrained ImageNet ResNet-18 (<see cref="ResNet.ImageNet18"/>).</summary>
[Collection(PretrainedCollection.Name)]
public sealed class PretrainedTrunkTests(PretrainedFixture fixture)
{
    /// <summary>The tiny heads on the full-width pretrained trunk (it has no narrower shape).</summary>
    private static readonly IntegratedNetworkOptions Small = TinyNetworks.Options(ResNet.ImageNet18) with { WidthDivisor = 1 };

    [Fact]
    public void The_trunk_with_the_pretrained_weights_gives_the_pretrained_features_of_unit_float_frames()
    {
        using var trunk = ResNet.Create(ResNet.ImageNet18);
        trunk.CopyFrom(fixture.Network);
        trunk.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var frames = rand(2, 3, 64, 64, generator: new Generator(5));

        var (c3, c4, c5) = trunk.call(frames);
        var expected = fixture.Network.Features(fixture.Network.Preprocessing.Apply(frames * 255), PretrainedStage.Layer2, PretrainedStage.Layer3, PretrainedStage.Layer4);

        foreach (var (ours, theirs) in new[] { c3, c4, c5 }.Zip(expected))
        {
            Assert.Equal(theirs.shape, ours.shape);
            var error = (ours - theirs).abs().max().item<float>();
            Assert.True(error < 1e-4 * theirs.abs().max().item<float>(), $"largest difference {error} on a map of up to {theirs.abs().max().item<float>()}");
        }
    }

    [Fact]
    public void The_pretrained_shape_has_three_blocks_in_layer4_and_only_full_width()
    {
        using var trunk = ResNet.Create(ResNet.ImageNet18);

        Assert.Equal(fixture.Network.parameters().Sum(static p => p.numel()), trunk.parameters().Sum(static p => p.numel()));
        Assert.Contains("layer4.2.conv2.weight", trunk.state_dict().Keys);
        Assert.Throws<ArgumentOutOfRangeException>(() => ResNet.Create(ResNet.ImageNet18, widthDivisor: 2));
    }

    [Fact]
    public void A_backbone_of_another_shape_refuses_the_pretrained_weights()
    {
        using var scratch = ResNet.Create("resnet18");

        var error = Assert.Throws<InvalidOperationException>(() => scratch.CopyFrom(fixture.Network));
        Assert.Contains(ResNet.ImageNet18, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_frozen_trunk_stays_out_of_every_stage_while_the_pyramid_trains()
    {
        using var network = new IntegratedNetwork(Small);
        network.train();

        Assert.Equal(NetworkParts.Pyramid | NetworkParts.ReconstructionHead, network.ConfigureForStage(TrainingStage.Autoencoder, freezeTrunk: true));
        Assert.Equal(network.CountParameters(NetworkParts.Pyramid | NetworkParts.ReconstructionHead), network.TrainableParameters().Sum(p => p.numel()));
        Assert.Equal(NetworkParts.Pyramid | NetworkParts.SegmentationHead, network.ConfigureForStage(TrainingStage.Segmentation, freezeTrunk: true));
        Assert.False(network.named_modules().Single(m => m.name == "backbone").module.training, "the frozen trunk's batch norms keep the pretrained statistics");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Training_starts_from_the_pretrained_weights_and_moves_them_only_when_not_frozen(bool frozen)
    {
        using var background = FrameTensors.ToByteTensor(TestFrames.Normal(64, 16), 64, 64);
        using var withObjects = FrameTensors.ToByteTensor(
            Enumerable.Range(0, 8).Select(i => TestFrames.Scene(64, 500 + i, (8 + (i * 3), 20, 14))).ToArray(), 64, 64);
        var training = new IntegratedTraining(AutoencoderEpochs: 3, SegmentationEpochs: 1, RefitEpochs: 1, BatchSize: 8, LearningRate: 3e-3, Seed: 3, FreezeTrunk: frozen);

        var (network, _) = IntegratedTrainer.Train(background, withObjects, Small, training, CPU);
        using (network)
        {
            var trunk = ((ResNet)network.named_modules().Single(m => m.name == "backbone").module).state_dict();
            var pretrained = fixture.Network.state_dict();
            var moved = pretrained.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !trunk[k].allclose(pretrained[k], rtol: 0, atol: 0)).ToList();

            if (frozen)
            {
                Assert.Empty(moved);
            }
            else
            {
                Assert.Contains("conv1.weight", moved);
                Assert.Contains("bn1.running_mean", moved);
            }
        }
    }

    [Theory]
    [InlineData(Backbone.Pretrained, 2, false, "WidthDivisor")]
    [InlineData(Backbone.Resnet18, 1, true, "FreezeBackbone")]
    public void Options_that_do_not_fit_the_pretrained_network_are_refused_by_name(Backbone backbone, int widthDivisor, bool freeze, string member)
    {
        var options = new IntegratedOptions { Backbone = backbone, WidthDivisor = widthDivisor, FreezeBackbone = freeze };

        var errors = options.Validate(new ValidationContext(options)).ToList();

        Assert.Contains(errors, e => e.MemberNames.Contains(member));
    }

    [Fact]
    public void The_pretrained_backbone_round_trips_through_the_network_shape()
    {
        var options = new IntegratedOptions { Backbone = Backbone.Pretrained, FreezeBackbone = true };

        Assert.Equal(ResNet.ImageNet18, options.ToNetwork().Depth);
        Assert.Equal(Backbone.Pretrained, IntegratedOptions.Describing(options.ToNetwork()).Backbone);
        Assert.True(options.ToTraining(0).FreezeTrunk);
    }
}
