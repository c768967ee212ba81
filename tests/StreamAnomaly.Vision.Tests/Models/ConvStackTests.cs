using StreamAnomaly.Vision.Models;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Models;

public sealed class ConvStackTests
{
    [Fact]
    public void Down_takes_an_image_to_a_sixteenth_of_its_side_and_Up_brings_it_back_in_unit_range()
    {
        var channels = ConvStack.Channels(4);
        using var down = ConvStack.Down(channels);
        using var up = ConvStack.Up(channels);
        using var scope = NewDisposeScope();
        var code = down.call(rand(2, 3, 48, 32));
        var image = up.call(code);
        Assert.Equal(new long[] { 2, 8, 3, 2 }, code.shape);
        Assert.Equal(new long[] { 2, 3, 48, 32 }, image.shape);
        Assert.True(image.min().item<float>() > 0f && image.max().item<float>() < 1f);
    }

    [Fact]
    public void Block_names_are_the_state_dict_keys_bundles_rely_on()
    {
        using var down = ConvStack.Down(ConvStack.Channels(4));
        using var up = ConvStack.Up(ConvStack.Channels(4));
        Assert.Superset(new HashSet<string> { "0.0.weight", "0.1.weight", "0.1.running_mean", "3.1.bias" }, down.state_dict().Keys.ToHashSet());
        Assert.Superset(new HashSet<string> { "0.0.weight", "2.1.running_var", "3.0.weight", "3.0.bias" }, up.state_dict().Keys.ToHashSet());
        Assert.DoesNotContain("3.1.weight", up.state_dict().Keys);             // the last block has no batch norm
    }
}
