using StreamAnomaly.Vision.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

public sealed class BackboneAndPyramidTests
{
    [Theory]
    [InlineData("resnet18", 16, 32, 64)]
    [InlineData("resnet34", 16, 32, 64)]
    [InlineData("resnet50", 64, 128, 256)]
    public void Backbone_returns_C3_C4_C5_at_strides_8_16_32(string depth, long c3, long c4, long c5)
    {
        using var backbone = ResNet.Create(depth, widthDivisor: 8);
        using var scope = NewDisposeScope();
        var (f3, f4, f5) = backbone.call(rand(2, 3, 64, 64));
        Assert.Equal(new long[] { 2, c3, 8, 8 }, f3.shape);
        Assert.Equal(new long[] { 2, c4, 4, 4 }, f4.shape);
        Assert.Equal(new long[] { 2, c5, 2, 2 }, f5.shape);
        Assert.Equal((c3, c4, c5), backbone.OutputChannels);
    }

    [Theory]
    [InlineData("resnet18", 11_176_512)]
    [InlineData("resnet34", 21_284_672)]
    [InlineData("resnet50", 23_508_032)]
    public void Full_width_backbones_have_torchvisions_parameter_counts_without_fc(string depth, long expected)
    {
        using var backbone = ResNet.Create(depth);
        Assert.Equal(expected, backbone.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Backbone_uses_torchvision_state_dict_names()
    {
        using var r18 = ResNet.Create("resnet18", 8);
        using var r50 = ResNet.Create("resnet50", 8);
        var k18 = r18.state_dict().Keys.ToHashSet();
        var k50 = r50.state_dict().Keys.ToHashSet();
        Assert.Contains("conv1.weight", k18);
        Assert.Contains("bn1.running_var", k18);
        Assert.Contains("layer1.0.conv2.weight", k18);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", k18);
        Assert.Contains("layer2.0.downsample.0.weight", k18);
        Assert.Contains("layer2.0.downsample.1.running_mean", k18);
        Assert.Contains("layer4.1.bn2.bias", k18);
        Assert.Contains("layer1.0.downsample.0.weight", k50);
        Assert.Contains("layer3.5.conv3.weight", k50);
        Assert.Contains("layer4.2.bn3.weight", k50);
    }

    [Theory]
    [InlineData("resnet101")]
    [InlineData("ResNet18")]
    [InlineData("")]
    public void Unknown_depth_is_a_clear_argument_exception(string depth)
    {
        var error = Assert.Throws<ArgumentException>(() => ResNet.Create(depth));
        Assert.Contains("resnet18, resnet34, resnet50", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Width_divisor_must_divide_64()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ResNet.Create("resnet18", 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResNet.Create("resnet18", 0));
    }

    [Fact]
    public void Pyramid_has_five_levels_of_the_configured_channels()
    {
        using var pyramid = new FeaturePyramid((16, 32, 64), channels: 12);
        using var scope = NewDisposeScope();
        var levels = pyramid.call((rand(2, 16, 8, 8), rand(2, 32, 4, 4), rand(2, 64, 2, 2)));
        Assert.Equal(5, levels.Length);
        long[][] sides = [[8, 8], [4, 4], [2, 2], [1, 1], [1, 1]];
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(new long[] { 2, 12, sides[i][0], sides[i][1] }, levels[i].shape);
        }

        var keys = pyramid.state_dict().Keys.ToArray();
        Assert.Equal(["lat_layers.0.weight", "lat_layers.0.bias"], keys.Take(2));
        Assert.Contains("pred_layers.2.weight", keys);
        Assert.Contains("downsample_layers.1.bias", keys);
    }

    [Fact]
    public void Pyramid_levels_follow_strides_on_a_non_square_input()
    {
        using var backbone = ResNet.Create("resnet18", 16);
        using var pyramid = new FeaturePyramid(backbone.OutputChannels, channels: 8);
        using var scope = NewDisposeScope();
        var levels = pyramid.call(backbone.call(rand(1, 3, 96, 64)));
        var expected = PriorBoxes.LevelSizes(96, 64);
        Assert.Equal(expected, levels.Select(l => ((int)l.shape[2], (int)l.shape[3])).ToArray());
        Assert.Equal((12, 8), expected[0]);
        Assert.Equal((1, 1), expected[4]);
    }
}
