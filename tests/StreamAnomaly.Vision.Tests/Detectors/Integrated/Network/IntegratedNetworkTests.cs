using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

public sealed class IntegratedNetworkTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    public void Forward_gives_reconstruction_and_segmentation_outputs(string depth)
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options(depth));
        using var scope = NewDisposeScope();
        using var result = network.call(rand(2, 3, 64, 64));
        Assert.Equal(new long[] { 2, 3, 64, 64 }, result.Reconstruction.shape);
        Assert.Equal(new long[] { 2, TinyNetworks.PriorCount, 2 }, result.ClassLogits.shape);
        Assert.Equal(new long[] { 2, TinyNetworks.PriorCount, 4 }, result.BoxRegressions.shape);
        Assert.Equal(new long[] { 2, TinyNetworks.PriorCount, 4 }, result.MaskCoefficients.shape);
        // A 64 px input gets prototypes at stride 2 (32 x 32); 256 px and more YOLACT's stride 4.
        Assert.Equal(new long[] { 2, 4, 32, 32 }, result.Prototypes.shape);
        Assert.Equal(4, (TinyNetworks.Options(depth) with { InputHeight = 256, InputWidth = 256 }).ResolvedPrototypeStride);
        Assert.Equal(8, (TinyNetworks.Options(depth) with { PrototypeStride = 8 }).ResolvedPrototypeStride);
        using var priors = network.CreatePriors();
        Assert.Equal(TinyNetworks.PriorCount, priors.shape[0]);
    }

    [Fact]
    public void Wrong_input_size_is_rejected_with_the_expected_shape()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var input = rand(1, 3, 96, 64);
        var error = Assert.Throws<ArgumentException>(() => network.call(input));
        Assert.Contains("[N, 3, 64, 64]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_dict_keys_match_the_golden_file()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        var keys = network.state_dict().Keys.ToArray();
        var golden = File.ReadAllLines(GoldenPath());
        for (var i = 0; i < Math.Min(golden.Length, keys.Length); i++)
        {
            Assert.True(golden[i] == keys[i], $"line {i + 1}: expected '{golden[i]}', got '{keys[i]}'");
        }

        Assert.Equal(golden.Length, keys.Length);
    }

    [Fact]
    public void Residual_scale_starts_at_one_and_travels_with_the_weights()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var loaded = new IntegratedNetwork(TinyNetworks.Options());
        Assert.Equal(1f, network.ResidualScale.min().item<float>());
        Assert.Equal(1f, network.ResidualScale.max().item<float>());
        var scale = Enumerable.Range(0, 64 * 64).Select(static i => 0.5f + (i % 7)).ToArray();

        network.SetResidualScale(new AnomalyMap(64, 64, scale));
        ModuleWeights.Import(loaded, ModuleWeights.Export(network), "test.sabundle", "integrated");

        Assert.Equal(scale, loaded.ResidualScale.data<float>().ToArray());
    }

    [Fact]
    public void Residual_scale_of_another_size_or_not_positive_is_refused()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());

        Assert.Throws<ArgumentException>(() => network.SetResidualScale(new AnomalyMap(32, 64, new float[32 * 64])));
        Assert.Throws<ArgumentException>(() => network.SetResidualScale(new AnomalyMap(64, 64, new float[64 * 64])));
    }

    [Fact]
    public void Forward_and_detection_leave_no_live_tensor_behind()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var input = rand(2, 3, 64, 64);
        using (network.call(input))
        {
        }

        network.Detect(input);
        var before = LeakProbe.LiveTensors;
        for (var i = 0; i < 2; i++)
        {
            using var result = network.call(input);
            using var reconstruction = network.Reconstruct(input);
            network.Detect(input, new PostprocessOptions { ScoreThreshold = 0.0 });
        }

        Assert.Equal(before, LeakProbe.LiveTensors);
        Assert.True(network.training, "Detect restores the training mode");
    }

    [Fact]
    public void Detect_returns_masks_of_the_input_size()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        using var input = rand(2, 3, 64, 64);
        var detections = network.Detect(input, new PostprocessOptions { ScoreThreshold = 0.0, MaxDetections = 5 });
        Assert.Equal(2, detections.Count);
        Assert.All(detections, image =>
        {
            Assert.InRange(image.Count, 1, 5);
            Assert.All(image, d => Assert.Equal((64, 64), (d.Mask.Width, d.Mask.Height)));
            Assert.Equal(image.OrderByDescending(d => d.Score).Select(d => d.Score), image.Select(d => d.Score));
        });
    }

    [Fact]
    public void The_code_is_the_only_path_from_encoder_to_decoder()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        network.eval();
        var toCode = (Linear)network.named_modules().Single(m => m.name == "reconstruction_head.to_code").module;
        Assert.Equal(new long[] { 32, 8 * 2 * 2 }, toCode.weight!.shape);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor? code = null;
        var capture = toCode.register_forward_hook((_, _, result) =>
        {
            code?.Dispose();
            code = result.detach().clone().DetachFromDisposeScope();
            return result;
        });
        try
        {
            network.Reconstruct(rand(1, 3, 64, 64));
        }
        finally
        {
            capture.remove();
        }

        Assert.NotNull(code);
        Assert.Equal(new long[] { 1, 32 }, code.shape);
        code.Dispose();

        var zeroCode = toCode.register_forward_hook((_, _, result) => zeros_like(result));
        try
        {
            var a = network.Reconstruct(rand(1, 3, 64, 64));
            var b = network.Reconstruct(zeros(1, 3, 64, 64));
            var c = network.Reconstruct(ones(1, 3, 64, 64));
            Assert.True(Same(a, b) && Same(a, c), "with a zero code the reconstruction must not depend on the input");
        }
        finally
        {
            zeroCode.remove();
        }

        var free1 = network.Reconstruct(rand(1, 3, 64, 64));
        var free2 = network.Reconstruct(ones(1, 3, 64, 64));
        Assert.False(Same(free1, free2), "without the hook the input does reach the output");
    }

    [Fact]
    public void Stages_freeze_and_unfreeze_the_right_parts()
    {
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        network.train();
        var all = network.CountParameters(NetworkParts.All);
        Assert.Equal(all, network.parameters().Sum(p => p.numel()));

        Assert.Equal(NetworkParts.Backbone | NetworkParts.ReconstructionHead, network.ConfigureForStage(TrainingStage.Autoencoder));
        Assert.Equal(network.CountParameters(NetworkParts.Backbone | NetworkParts.ReconstructionHead), network.TrainableParameters().Sum(p => p.numel()));

        Assert.Equal(NetworkParts.Backbone | NetworkParts.SegmentationHead, network.ConfigureForStage(TrainingStage.Segmentation));
        Assert.Equal(network.CountParameters(NetworkParts.Backbone | NetworkParts.SegmentationHead), network.TrainableParameters().Sum(p => p.numel()));

        Assert.Equal(NetworkParts.SegmentationHead, network.ConfigureForStage(TrainingStage.Segmentation, freezeBackboneInSegmentationStage: true));
        Assert.Equal(network.CountParameters(NetworkParts.SegmentationHead), network.TrainableParameters().Sum(p => p.numel()));

        Assert.Equal(NetworkParts.ReconstructionHead, network.ConfigureForStage(TrainingStage.DecoderRefit));
        Assert.Equal(network.CountParameters(NetworkParts.ReconstructionHead), network.TrainableParameters().Sum(p => p.numel()));
        var backbone = network.named_modules().Single(m => m.name == "backbone").module;
        Assert.False(backbone.training, "frozen batch norms keep their statistics");
        using (var probe = rand(1, 3, 64, 64))
        {
            network.Detect(probe);
        }

        Assert.False(backbone.training, "Detect restores each part's mode");
        Assert.True(network.named_modules().Single(m => m.name == "reconstruction_head").module.training);

        // Stage 3 keeps the backbone's batch-norm statistics fixed while the decoder trains.
        var before = network.state_dict()["backbone.bn1.running_mean"].clone();
        using (var batch = rand(2, 3, 64, 64))
        using (network.Reconstruct(batch))
        {
        }

        Assert.True(Same(before, network.state_dict()["backbone.bn1.running_mean"]));
        before.Dispose();
    }

    [Fact]
    public void Sharing_the_backbone_saves_one_backbone_and_pyramid()
    {
        var counts = IntegratedNetwork.CompareParameterCounts(TinyNetworks.Options());
        Assert.Equal(counts.Backbone + counts.Pyramid, counts.TwoSeparateModels - counts.SharedBackbone);
        using var network = new IntegratedNetwork(TinyNetworks.Options());
        Assert.Equal(network.parameters().Sum(p => p.numel()), counts.SharedBackbone);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    public void Full_width_parameter_comparison(string depth)
    {
        var counts = IntegratedNetwork.CompareParameterCounts(new IntegratedNetworkOptions { Depth = depth });
        output.WriteLine($"{depth} 256x256, FPN 256: backbone {counts.Backbone:N0}, pyramid {counts.Pyramid:N0}, reconstruction head {counts.ReconstructionHead:N0}, segmentation head {counts.SegmentationHead:N0}; two separate {counts.TwoSeparateModels:N0}, shared {counts.SharedBackbone:N0}");
        Assert.True(counts.SharedBackbone < counts.TwoSeparateModels);
    }

    private static bool Same(Tensor a, Tensor b)
    {
        return a.allclose(b, rtol: 0, atol: 0);
    }

    /// <summary>The golden file as copied beside the test binaries (source paths are mapped away in CI builds).</summary>
    private static string GoldenPath() =>
        Path.Combine(AppContext.BaseDirectory, "Detectors", "Integrated", "Network", "integrated-network.keys.txt");
}
