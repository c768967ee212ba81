using StreamAnomaly.Vision.Models.Temporal;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Models.Temporal;

public sealed class ConvLstmAutoencoderTests
{
    [Fact]
    public void A_window_is_reconstructed_in_its_own_shape_within_unit_range()
    {
        using var model = new ConvLstmAutoencoder(width: 4, hidden: 8);
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
    public void The_output_at_a_step_depends_on_earlier_frames_only()
    {
        using var model = new ConvLstmAutoencoder(width: 4, hidden: 8);
        model.eval();
        using var scope = NewDisposeScope();
        var clip = rand([1, 4, 3, 16, 16]);
        var changed = clip.clone();
        changed[0, 3] = zeros(3, 16, 16);
        var a = model.call(clip);
        var b = model.call(changed);
        Assert.True(a[0, ..3].allclose(b[0, ..3]));
        Assert.False(a[0, 3].allclose(b[0, 3]));
    }

    [Fact]
    public void State_dict_keys_name_encoder_lstm_and_decoder()
    {
        using var model = new ConvLstmAutoencoder(width: 4, hidden: 8);
        var keys = model.state_dict().Keys.ToArray();
        Assert.Contains("encoder.0.weight", keys);
        Assert.Contains("lstm.gates.weight", keys);
        Assert.Contains("lstm.gates.bias", keys);
        Assert.Contains("decoder.2.bias", keys);
    }

    [Fact]
    public void Forward_pass_leaves_no_live_tensor_behind()
    {
        using var model = new ConvLstmAutoencoder(width: 4, hidden: 8);
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
