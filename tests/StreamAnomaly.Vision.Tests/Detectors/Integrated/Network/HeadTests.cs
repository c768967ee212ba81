using StreamAnomaly.Vision.Detectors.Integrated.Network;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

public sealed class HeadTests
{
    private static Tensor[] Pyramid(int n = 2, int channels = 16) =>
        [rand(n, channels, 8, 8), rand(n, channels, 4, 4), rand(n, channels, 2, 2), rand(n, channels, 1, 1), rand(n, channels, 1, 1)];

    [Fact]
    public void Reconstruction_head_rebuilds_an_image_in_unit_range()
    {
        using var head = new ReconstructionHead(16, 64, 64, codeSize: 32, decoderWidth: 8, squeezeChannels: 8);
        using var scope = NewDisposeScope();
        var p = Pyramid();
        var image = head.call((p[0], p[1], p[2]));
        Assert.Equal(new long[] { 2, 3, 64, 64 }, image.shape);
        Assert.True(image.min().item<float>() >= 0f && image.max().item<float>() <= 1f);
    }

    [Fact]
    public void Default_code_is_512_floats_which_is_2_kilobytes()
    {
        using var head = new ReconstructionHead(16, 64, 64);
        using var scope = NewDisposeScope();
        var p = Pyramid();
        var code = head.Encode(p[0], p[1], p[2]);
        Assert.Equal(new long[] { 2, 512 }, code.shape);
        Assert.Equal(2048, head.CodeSize * sizeof(float));
    }

    [Fact]
    public void Reconstruction_head_rejects_sides_that_are_not_multiples_of_32()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconstructionHead(16, 48, 64));
    }

    [Fact]
    public void Segmentation_head_gives_per_prior_outputs_and_quarter_resolution_prototypes()
    {
        using var head = new SegmentationHead(16, prototypes: 4, classes: 2, anchorsPerLocation: 6);
        using var scope = NewDisposeScope();
        using var output = head.call(Pyramid());
        Assert.Equal(new long[] { 2, TinyNetworks.PriorCount, 2 }, output.ClassLogits.shape);
        Assert.Equal(new long[] { 2, TinyNetworks.PriorCount, 4 }, output.BoxRegressions.shape);
        Assert.Equal(new long[] { 2, TinyNetworks.PriorCount, 4 }, output.MaskCoefficients.shape);
        Assert.Equal(new long[] { 2, 4, 16, 16 }, output.Prototypes.shape);
        Assert.True(output.MaskCoefficients.abs().max().item<float>() <= 1f);
        Assert.True(output.Prototypes.min().item<float>() >= 0f);
    }

    [Fact]
    public void Prototype_stride_2_gives_half_resolution_prototypes_with_the_same_parameters()
    {
        using var head = new SegmentationHead(16, prototypes: 4, classes: 2, anchorsPerLocation: 6, prototypeStride: 2);
        using var yolact = new SegmentationHead(16, prototypes: 4, classes: 2, anchorsPerLocation: 6);
        using var scope = NewDisposeScope();
        using var output = head.call(Pyramid());
        Assert.Equal(new long[] { 2, 4, 32, 32 }, output.Prototypes.shape);
        Assert.Equal(
            yolact.state_dict().Select(p => (p.Key, string.Join("x", p.Value.shape))),
            head.state_dict().Select(p => (p.Key, string.Join("x", p.Value.shape))));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SegmentationHead(16, prototypeStride: 3));
    }

    [Fact]
    public void Segmentation_head_names_follow_yolact()
    {
        using var head = new SegmentationHead(8, prototypes: 4);
        var keys = head.state_dict().Keys.ToHashSet();
        foreach (var key in new[] { "proto_net.0.weight", "proto_net.4.weight", "proto_net.8.weight", "proto_net.10.bias", "upfeature.0.weight", "bbox_layer.weight", "conf_layer.bias", "mask_layer.weight" })
        {
            Assert.Contains(key, keys);
        }

        var conv = (Conv2d)head.named_modules().Single(m => m.name == "mask_layer").module;
        Assert.Equal(new long[] { 12, 8, 3, 3 }, conv.weight!.shape);
    }
}
