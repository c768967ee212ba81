using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Models;

/// <summary>
/// The convolution stacks the autoencoders share: four stride-2 blocks down, and four up to an image.
/// Channels [3, w, 2w, 4w, 2w] take [3, S, S] to [2w, S/16, S/16] and back. Module names ("0".."3", each a
/// Sequential of conv, batch norm, LeakyReLU) are part of the bundles' state-dict keys.
/// </summary>
internal static class ConvStack
{
    /// <summary>Channels of the four blocks for first-layer width <paramref name="width"/>: [3, w, 2w, 4w, 2w].</summary>
    public static int[] Channels(int width) => [3, width, width * 2, width * 4, width * 2];

    /// <summary>Four stride-2 convolutions with batch norm and LeakyReLU: [channels[0], S, S] -> [channels[4], S/16, S/16].</summary>
    public static Sequential Down(int[] channels) =>
        Sequential(Enumerable.Range(0, 4).Select(i => (
            $"{i}",
            (Module<Tensor, Tensor>)Sequential(
                Conv2d(channels[i], channels[i + 1], kernel_size: 4, stride: 2, padding: 1, bias: false),
                BatchNorm2d(channels[i + 1]),
                LeakyReLU(0.2)))));

    /// <summary>The mirror of <see cref="Down"/>: three transposed blocks with batch norm, then one to channels[0] with a sigmoid.</summary>
    public static Sequential Up(int[] channels) =>
        Sequential(Enumerable.Range(0, 4).Select(i =>
        {
            var cin = channels[4 - i];
            var cout = channels[3 - i];
            Module<Tensor, Tensor> block = i < 3
                ? Sequential(
                    ConvTranspose2d(cin, cout, kernel_size: 4, stride: 2, padding: 1, bias: false),
                    BatchNorm2d(cout),
                    LeakyReLU(0.2))
                : Sequential(ConvTranspose2d(cin, cout, kernel_size: 4, stride: 2, padding: 1), Sigmoid());
            return ($"{i}", block);
        }));
}
