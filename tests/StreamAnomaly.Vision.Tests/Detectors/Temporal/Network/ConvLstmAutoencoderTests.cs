using StreamAnomaly.Vision.Detectors.Temporal.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Temporal.Network;

public sealed class ConvLstmAutoencoderTests
{
    [Fact]
    public void A_window_is_predicted_in_its_own_shape_within_unit_range()
    {
        using var model = new ConvLstmAutoencoder(64, width: 4, hidden: 8, code: 16);
        using var scope = NewDisposeScope();
        var output = model.call(rand([2, 8, 3, 64, 64]));
        Assert.Equal(new long[] { 2, 8, 3, 64, 64 }, output.shape);
        Assert.True(output.min().item<float>() > 0f && output.max().item<float>() < 1f);
    }

    [Fact]
    public void The_cell_keeps_the_grid_and_gives_hidden_and_cell_states()
    {
        using var cell = new ConvLstmCell(inputChannels: 5, hiddenChannels: 7);
        using var scope = NewDisposeScope();
        var x = rand(3, 5, 9, 11);
        var (h0, c0) = cell.ZeroState(x);
        var (h, c) = cell.call(x, h0, c0);
        Assert.Equal(new long[] { 3, 7, 9, 11 }, h.shape);
        Assert.Equal(new long[] { 3, 7, 9, 11 }, c.shape);
        Assert.True(h.abs().max().item<float>() < 1f); // o * tanh(c)
    }

    [Fact]
    public void The_prediction_at_a_step_depends_on_that_frame_and_earlier_ones_only()
    {
        using var model = new ConvLstmAutoencoder(32, width: 4, hidden: 8, code: 16);
        model.eval();
        using var scope = NewDisposeScope();
        var clip = rand([1, 4, 3, 32, 32]).requires_grad_();
        model.call(clip)[0, 2].sum().backward();
        var influence = clip.grad!.abs().sum([0, 2, 3, 4]);                 // per input frame
        Assert.All(new[] { 0, 1, 2 }, t => Assert.True(influence[t].item<float>() > 0f, $"frame {t} has no influence on step 2"));
        Assert.Equal(0f, influence[3].item<float>());
    }

    [Fact]
    public void State_dict_keys_name_encoder_lstm_bottleneck_and_decoder()
    {
        using var model = new ConvLstmAutoencoder(32, width: 4, hidden: 8, code: 16);
        var keys = model.state_dict().Keys.ToArray();
        Assert.Contains("encoder.0.0.weight", keys);
        Assert.Contains("encoder.3.1.running_mean", keys);
        Assert.Contains("lstm.gates.weight", keys);
        Assert.Contains("lstm.gates.bias", keys);
        Assert.Contains("to_code.weight", keys);
        Assert.Contains("from_code.bias", keys);
        Assert.Contains("decoder.3.0.bias", keys);
    }

    [Fact]
    public void The_bottleneck_holds_code_floats_per_frame()
    {
        using var model = new ConvLstmAutoencoder(32, width: 4, hidden: 8, code: 16);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 16, 8 * 2 * 2 }, parameters["to_code.weight"]);     // hidden x (S/16)^2 -> code
        Assert.Equal(new long[] { 8 * 2 * 2, 16 }, parameters["from_code.weight"]);   // code -> 2w x (S/16)^2
    }

    [Theory]
    [InlineData(new long[] { 1, 4, 3, 32, 16 })]
    [InlineData(new long[] { 1, 4, 1, 32, 32 })]
    [InlineData(new long[] { 4, 3, 32, 32 })]
    public void Input_of_another_shape_is_refused_with_the_expected_one(long[] shape)
    {
        using var model = new ConvLstmAutoencoder(32, width: 4, hidden: 8, code: 16);
        using var input = zeros(shape);
        var error = Assert.Throws<ArgumentException>(() => model.call(input));
        Assert.Contains("[N, T, 3, 32, 32]", error.Message);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(40)]
    public void Input_sizes_that_are_not_multiples_of_16_are_refused(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvLstmAutoencoder(size));

    [Fact]
    public void Forward_pass_leaves_no_live_tensor_behind()
    {
        using var model = new ConvLstmAutoencoder(16, width: 4, hidden: 8, code: 16);
        using var input = rand([1, 4, 3, 16, 16]);
        using (var warm = model.call(input))
        {
        }

        var before = LeakProbe.LiveTensors;
        for (var i = 0; i < 2; i++)
        {
            using var output = model.call(input);
        }

        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
