using System.Diagnostics;
using TorchSharp;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Models.Pretrained;

/// <summary>How the shipped ONNX graph maps onto the module, what the loader refuses, leaks, timing.</summary>
[Collection(PretrainedCollection.Name)]
public sealed class PretrainedResNet18Tests(PretrainedFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void The_build_puts_both_onnx_files_next_to_the_tests()
    {
        Assert.True(new FileInfo(PretrainedFixture.ModelPath).Length > 60_000_000);
        Assert.True(File.Exists(PretrainedFixture.PreprocessPath));
    }

    [Fact]
    public void The_walk_finds_the_stage_ends_the_graph_names_and_CNTKs_third_block_in_layer4()
    {
        Assert.Equal([2, 2, 2, 3], fixture.Network.BlocksPerLayer);
        Assert.Equal(15_897_152, fixture.Network.parameters().Sum(static p => p.numel()));
        Assert.Equal(["ReLU283_Output_0", "ReLU315_Output_0", "ReLU347_Output_0", "ReLU393_Output_0"], fixture.Network.StageOutputs);
        Assert.Equal(["Pooling395_Output_0"], fixture.Graph.Outputs);
        Assert.Equal(["Input247"], fixture.Graph.Inputs);
    }

    [Fact]
    public void Every_initializer_is_loaded_exactly_once_and_every_parameter_and_statistic_is_filled()
    {
        var initializers = fixture.Network.Sources.Select(static s => s.Initializer).ToList();
        var keys = fixture.Network.Sources.Select(static s => s.Key).ToList();

        Assert.Equal(initializers.Count, initializers.Distinct().Count());
        Assert.Equal(fixture.Graph.Initializers.Keys.Order(StringComparer.Ordinal), initializers.Order(StringComparer.Ordinal));
        Assert.Equal(110, initializers.Count); // 22 convolutions + 22 batch norms x 4
        Assert.Equal(
            fixture.Network.state_dict().Keys.Where(static k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            keys.Order(StringComparer.Ordinal));
        Assert.Contains(("conv1.weight", "Parameter91"), fixture.Network.Sources);
        Assert.Contains(("layer2.0.downsample.0.weight", "Parameter199"), fixture.Network.Sources);
    }

    [Fact]
    public void Batch_norm_takes_the_files_epsilon_and_the_module_is_frozen()
    {
        var norms = fixture.Network.named_modules().Where(static m => m.module is BatchNorm2d).Select(static m => (BatchNorm2d)m.module).ToList();

        Assert.Equal(22, norms.Count);
        Assert.All(norms, static n => Assert.Equal(9.99999974738e-06, n.eps, 1e-15));
        Assert.False(fixture.Network.training);
        Assert.All(fixture.Network.parameters(), static p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void The_shape_check_names_the_initializer_the_key_and_both_shapes()
    {
        var error = Assert.Throws<InvalidDataFileException>(() =>
            OnnxWeights.CheckShape("model.onnx", "Parameter91", [64, 3, 3, 3], "conv1.weight", [64, 3, 7, 7]));

        Assert.Equal("model.onnx: initializer 'Parameter91' has shape [64, 3, 3, 3] but conv1.weight needs [64, 3, 7, 7]", error.Message);
    }

    [Fact]
    public void A_graph_with_a_wrongly_shaped_initializer_is_refused_by_name()
    {
        var initializers = new Dictionary<string, OnnxTensor>(fixture.Graph.Initializers)
        {
            ["Parameter46"] = new("Parameter46", [256, 256, 1, 1], new float[256 * 256]),
        };

        var error = Assert.Throws<InvalidDataFileException>(() =>
            PretrainedResNet18.FromGraph(fixture.Graph with { Initializers = initializers }, fixture.Network.Preprocessing));

        Assert.Contains("initializer 'Parameter46' has shape [256, 256, 1, 1] but layer3.0.conv2.weight needs [256, 256, 3, 3]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_graph_whose_convolution_attributes_differ_is_refused_by_node()
    {
        var nodes = fixture.Graph.Nodes.Select(n => n.Outputs[0] == "Convolution249_Output_0"
            ? n with { Attributes = new Dictionary<string, OnnxAttribute>(n.Attributes) { ["strides"] = new("strides", null, null, null, [1, 1], []) } }
            : n).ToList();

        var error = Assert.Throws<InvalidDataFileException>(() =>
            PretrainedResNet18.FromGraph(fixture.Graph with { Nodes = nodes }, fixture.Network.Preprocessing));

        Assert.Contains("(for conv1) has strides [1, 1] where the module has [2, 2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_graph_with_an_unused_initializer_or_node_is_refused()
    {
        var initializers = new Dictionary<string, OnnxTensor>(fixture.Graph.Initializers) { ["Extra"] = new("Extra", [1], [0f]) };
        var extraNode = new OnnxNode("Relu", "stray", ["Pooling395_Output_0"], ["stray_out"], new Dictionary<string, OnnxAttribute>());

        var unused = Assert.Throws<InvalidDataFileException>(() =>
            PretrainedResNet18.FromGraph(fixture.Graph with { Initializers = initializers }, fixture.Network.Preprocessing));
        var stray = Assert.Throws<InvalidDataFileException>(() =>
            PretrainedResNet18.FromGraph(fixture.Graph with { Nodes = [.. fixture.Graph.Nodes, extraNode] }, fixture.Network.Preprocessing));

        Assert.Contains("1 initializers are not part of the network: Extra", unused.Message, StringComparison.Ordinal);
        Assert.Contains("1 nodes are not part of the ResNet: Relu 'stray_out'", stray.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_preprocessing_read_from_the_file_keeps_BGR_and_subtracts_the_mean_image_without_scaling()
    {
        var preprocessing = fixture.Network.Preprocessing;

        Assert.Equal("BGR", preprocessing.NetworkOrder);
        Assert.Equal((224, 224), (preprocessing.MeanImageHeight, preprocessing.MeanImageWidth));
        Assert.Equal(103.06, preprocessing.ChannelMeans[0], 0.01);
        Assert.Equal(115.90, preprocessing.ChannelMeans[1], 0.01);
        Assert.Equal(123.15, preprocessing.ChannelMeans[2], 0.01);
        output.WriteLine($"channel means (B, G, R): {string.Join(", ", preprocessing.ChannelMeans)}");

        using var scope = NewDisposeScope();
        using var byteMax = 255.ToScalar();
        var white = full([1, 3, 128, 96], byteMax, ScalarType.Byte);
        var result = preprocessing.Apply(white);
        Assert.Equal(ScalarType.Float32, result.dtype);
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(255f - preprocessing.ChannelMeans[c], result[0, c].max().item<float>(), 1e-4f);
            Assert.Equal(255f - preprocessing.ChannelMeans[c], result[0, c].min().item<float>(), 1e-4f);
        }
    }

    [Fact]
    public void A_single_frame_gets_the_features_it_gets_in_a_batch()
    {
        using var scope = NewDisposeScope();
        var pair = fixture.Network.Preprocessing.FromFrames([TestFrames.Scene(128, seed: 1), TestFrames.Scene(128, seed: 2)], 128, 128);

        var alone = fixture.Network.Features(pair.narrow(0, 0, 1), PretrainedStage.Layer3)[0];
        var batched = fixture.Network.Features(pair, PretrainedStage.Layer3)[0];

        Assert.Equal([1L, 256, 8, 8], alone.shape);
        Assert.True(alone.allclose(batched.narrow(0, 0, 1), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Features_come_in_the_order_asked_with_the_documented_shapes_at_any_multiple_of_32()
    {
        using var scope = NewDisposeScope();
        var input = fixture.Network.Preprocessing.FromFrames([TestFrames.Scene(160, seed: 1)], 128, 96);

        var features = fixture.Network.Features(input, PretrainedStage.Pooled, PretrainedStage.Layer1, PretrainedStage.Layer3);

        Assert.Equal([1L, 512], features[0].shape);
        Assert.Equal([1L, 64, 24, 32], features[1].shape);
        Assert.Equal([1L, 256, 6, 8], features[2].shape);
        Assert.Equal(256, PretrainedResNet18.Channels(PretrainedStage.Layer3));
        Assert.Throws<ArgumentException>(() => fixture.Network.Features(input, PretrainedStage.Layer1, PretrainedStage.Layer1));
    }

    /// <summary>
    /// Why symmetric padding reproduces CNTK's bottom/right-short padding at even sides: the last
    /// stride-2 window ends before the extra row and column.
    /// </summary>
    [Theory]
    [InlineData(3, 1, 56)]
    [InlineData(7, 3, 224)]
    [InlineData(3, 1, 8)]
    public void Symmetric_padding_equals_CNTKs_short_end_padding_under_stride_2_at_even_sides(int kernel, int pad, int side)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var x = randn([1, 4, side, side], generator: generator);
        var weight = randn([2, 4, kernel, kernel], generator: generator);

        var symmetric = nn.functional.conv2d(x, weight, strides: [2, 2], padding: [pad, pad]);
        var cntk = nn.functional.conv2d(nn.functional.pad(x, [pad, pad - 1, pad, pad - 1]), weight, strides: [2, 2]);

        Assert.Equal(cntk.shape, symmetric.shape);
        Assert.Equal(0f, symmetric.sub(cntk).abs().max().item<float>());
        Assert.True(OnnxWeights.PadsFit([pad, pad, pad - 1, pad - 1], [pad, pad], [2, 2]));
        Assert.False(OnnxWeights.PadsFit([pad, pad, pad - 1, pad - 1], [pad, pad], [1, 1]));
    }

    [Fact]
    public void Features_and_preprocessing_leave_no_tensor_alive()
    {
        Frame[] frames = [TestFrames.Scene(128, seed: 2), TestFrames.Scene(128, seed: 3)];
        using (var warm = fixture.Network.Preprocessing.FromFrames(frames, 128, 128))
        {
            fixture.Network.Features(warm, PretrainedStage.Layer2)[0].Dispose();
        }

        var before = LeakProbe.LiveTensors;
        for (var i = 0; i < 3; i++)
        {
            using var input = fixture.Network.Preprocessing.FromFrames(frames, 128, 128);
            foreach (var feature in fixture.Network.Features(input, PretrainedStage.Layer3, PretrainedStage.Pooled))
            {
                feature.Dispose();
            }

            fixture.Network.forward(input).Dispose();
        }

        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    [Fact]
    public void Loading_and_disposing_leaves_no_tensor_alive()
    {
        var before = LeakProbe.LiveTensors;

        PretrainedResNet18.FromGraph(fixture.Graph, fixture.Network.Preprocessing).Dispose();

        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    /// <summary>Eval-mode batch norm: a frame's features do not depend on its batch. Also reports load and forward times.</summary>
    [Fact]
    public void A_frame_gets_the_same_layer3_features_alone_and_in_a_batch_of_8()
    {
        var load = Stopwatch.StartNew();
        using (PretrainedResNet18.Load())
        {
            output.WriteLine($"load (both files, read + parse + copy into the module): {load.ElapsedMilliseconds} ms");
        }

        var frames = Enumerable.Range(0, 8).Select(static i => TestFrames.Scene(240, seed: 10 + i, square: (20 * i, 30, 40))).ToList();
        foreach (var side in new[] { 224, 128 })
        {
            using var scope = NewDisposeScope();
            var batch = fixture.Network.Preprocessing.FromFrames(frames, side, side);
            var layer3 = fixture.Network.Features(batch, PretrainedStage.Layer3)[0];
            const int Repeats = 3;
            var times = new List<double>();
            for (var r = 0; r < Repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                fixture.Network.Features(batch, PretrainedStage.Layer3)[0].Dispose();
                times.Add(clock.Elapsed.TotalMilliseconds / frames.Count);
            }

            output.WriteLine($"forward to layer3, {side} px, batch 8: {times.Min():F1} ms/frame (best of {Repeats} batches; mean {times.Average():F1})");

            var alone = fixture.Network.Features(batch.narrow(0, 5, 1), PretrainedStage.Layer3)[0];
            Assert.True(alone.sub(layer3.narrow(0, 5, 1)).abs().max().item<float>() <= 1e-4f);
        }
    }
}
