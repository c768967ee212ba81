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
    // Held constants (see HeldScalars).
    private static readonly Scalar ContrastRange = 0.4f.ToScalar();
    private static readonly Scalar ContrastLow = 0.8f.ToScalar();
    private static readonly Scalar BrightnessRange = 0.2f.ToScalar();
    private static readonly Scalar BrightnessHigh = 0.1f.ToScalar();

    public static Tensor Apply(Tensor batch, Generator generator, Device device)
    {
        var n = batch.shape[0];
        var contrast = rand([n, 1, 1, 1], generator: generator).mul(ContrastRange).add(ContrastLow).to(device);
        var brightness = rand([n, 1, 1, 1], generator: generator).mul(BrightnessRange).sub(BrightnessHigh).to(device);
        var mean = batch.mean([1, 2, 3], keepdim: true);
        return ((batch - mean) * contrast).Plus(mean).Plus(brightness).clamp(HeldScalars.Zero, HeldScalars.One);
    }
}
