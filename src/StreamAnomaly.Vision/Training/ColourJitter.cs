using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Training;

/// <summary>
/// Colour-jitter augmentation for autoencoder training (paper 1, stage 1): per frame, contrast in
/// [0.8, 1.2] around the frame's mean and brightness in [-0.1, 0.1], clamped to [0, 1], so
/// colours the training set never showed are still reconstructed.
/// </summary>
internal static class ColourJitter
{
    public static Tensor Apply(Tensor batch, Generator generator, Device device)
    {
        var n = batch.shape[0];
        var contrast = ((rand([n, 1, 1, 1], generator: generator) * 0.4f) + 0.8f).to(device);
        var brightness = ((rand([n, 1, 1, 1], generator: generator) * 0.2f) - 0.1f).to(device);
        var mean = batch.mean([1, 2, 3], keepdim: true);
        return (((batch - mean) * contrast) + mean + brightness).clamp(0f, 1f);
    }
}
