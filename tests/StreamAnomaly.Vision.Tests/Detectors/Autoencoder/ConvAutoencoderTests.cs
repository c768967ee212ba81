using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Models;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Autoencoder;

public sealed class ConvAutoencoderTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void Reconstruction_has_the_input_shape_and_lies_in_unit_range(int size)
    {
        using var model = new ConvAutoencoder(size, width: 8, code: 64);
        using var scope = NewDisposeScope();
        var output = model.call(rand(2, 3, size, size));
        Assert.Equal(new long[] { 2, 3, size, size }, output.shape);
        Assert.True(output.min().item<float>() >= 0f && output.max().item<float>() <= 1f);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(40)]
    public void Input_size_must_be_a_positive_multiple_of_16(int size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvAutoencoder(size));
    }

    [Fact]
    public void Default_bottleneck_holds_512_floats_which_is_2_kilobytes()
    {
        using var model = new ConvAutoencoder(128);
        var toCode = model.named_parameters().Single(p => p.name == "to_code.weight").parameter;
        Assert.Equal(new long[] { 512, 4096 }, toCode.shape);
        Assert.Equal(2048, model.CodeSize * sizeof(float));
    }

    [Fact]
    public void State_dict_keys_name_the_encoder_bottleneck_and_decoder()
    {
        using var model = new ConvAutoencoder(32, width: 8, code: 16);
        var keys = model.state_dict().Keys.ToArray();
        Assert.Contains("encoder.0.0.weight", keys);
        Assert.Contains("encoder.3.1.running_mean", keys);
        Assert.Contains("to_code.weight", keys);
        Assert.Contains("from_code.bias", keys);
        Assert.Contains("decoder.3.0.weight", keys);
    }

    [Fact]
    public void Forward_pass_leaves_no_live_tensor_behind()
    {
        using var model = new ConvAutoencoder(32, width: 8, code: 16);
        using var input = rand(2, 3, 32, 32);
        using (var warm = model.call(input))
        {
        }

        var before = LeakProbe.LiveTensors;
        for (var i = 0; i < 3; i++)
        {
            using var output = model.call(input);
        }

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
