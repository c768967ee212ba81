using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Models;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Tiny autoencoder bundles for the command tests.</summary>
internal static class AutoencoderBundles
{
    /// <summary>An untrained 32 px autoencoder with calibration threshold 1 (no real score matches it) and training fact epochs = 3.</summary>
    public static string Untrained(string path)
    {
        using var detector = new AutoencoderDetector(new ConvAutoencoder(32, 8, 16), new AutoencoderShape(32, 8, 16), CPU);
        DetectorCatalog.CreateBundle(detector, new ScoreCalibration(1, 0, 2, 99), new Dictionary<string, string> { ["epochs"] = "3" }, DateTimeOffset.UnixEpoch).Save(path);
        return path;
    }
}
