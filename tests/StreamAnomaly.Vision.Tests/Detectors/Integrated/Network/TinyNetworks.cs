using StreamAnomaly.Vision.Detectors.Integrated.Network;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;

/// <summary>Small configurations that run in milliseconds on two CPU cores.</summary>
internal static class TinyNetworks
{
    public const int Size = 64;

    public static IntegratedNetworkOptions Options(string depth = "resnet18") => new()
    {
        Depth = depth,
        WidthDivisor = 8,
        PyramidChannels = 16,
        InputHeight = Size,
        InputWidth = Size,
        CodeSize = 32,
        DecoderWidth = 8,
        SqueezeChannels = 8,
        Prototypes = 4,
    };

    /// <summary>Priors of a 64x64 input: (8x8 + 4x4 + 2x2 + 1x1 + 1x1) locations x 2 stride multiples x 3 aspect ratios.</summary>
    public const int PriorCount = (64 + 16 + 4 + 1 + 1) * 6;
}
