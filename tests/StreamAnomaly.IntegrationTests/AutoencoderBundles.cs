using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Tiny autoencoder bundles for the command tests.</summary>
internal static class AutoencoderBundles
{
    /// <summary>An untrained 32 px autoencoder with calibration threshold 1 (no real score matches it) and training fact epochs = 3.</summary>
    public static string Untrained(string path)
    {
        using var detector = new AutoencoderDetector(new ConvAutoencoder(32, 8, 16), new AutoencoderOptions { Size = 32, Width = 8, Code = 16 }, CPU);
        var calibrations = new Dictionary<string, ScoreCalibration> { [detector.Variants[0]] = new(1, 0, 2, 99) };
        DetectorCatalog.CreateBundle(detector, calibrations, new Dictionary<string, string> { ["epochs"] = "3" }, DateTimeOffset.UnixEpoch).Save(path);
        return path;
    }
}
