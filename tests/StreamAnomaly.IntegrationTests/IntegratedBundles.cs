using System.Globalization;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Tiny integrated-CNN bundles (64 px) for the command tests, trained on <see cref="CliFixture.Scene"/> frames.</summary>
internal static class IntegratedBundles
{
    public const int Size = 64;

    public static readonly IntegratedNetworkOptions Tiny = new()
    {
        Depth = "resnet18", WidthDivisor = 8, PyramidChannels = 16, InputHeight = Size, InputWidth = Size,
        CodeSize = 32, DecoderWidth = 8, SqueezeChannels = 8, Prototypes = 4,
    };

    /// <summary>Three stages on 24 background frames and 8 with the magenta square (a few seconds); records the pseudo-label threshold.</summary>
    public static string Trained(string path)
    {
        using var background = FrameTensors.ToByteTensor(Enumerable.Range(0, 24).Select(i => CliFixture.Scene(Size, i, false)).ToArray(), Size, Size);
        using var objects = FrameTensors.ToByteTensor(Enumerable.Range(0, 8).Select(i => CliFixture.Scene(Size, 100 + i, true)).ToArray(), Size, Size);
        var (network, facts) = IntegratedTrainer.Train(background, objects, Tiny, new IntegratedTraining(12, 1, 1, 8, 3e-3, Seed: 1), CPU);
        using (var detector = new IntegratedDetector(network, CPU, infillPasses: 1))
        {
            Save(detector, path, facts.PseudoLabelThreshold);
        }

        return path;
    }

    /// <summary>An untrained network: enough for the paths that fail before any model work.</summary>
    public static string Untrained(string path)
    {
        using var detector = new IntegratedDetector(new IntegratedNetwork(Tiny), CPU);
        Save(detector, path, pseudoLabelThreshold: 0.1);
        return path;
    }

    private static void Save(IntegratedDetector detector, string path, double pseudoLabelThreshold)
    {
        var calibration = new ScoreCalibration(1, 0, 2, 99);
        DetectorCatalog.CreateBundle(
            detector,
            detector.Variants.ToDictionary(v => v, _ => calibration),
            new Dictionary<string, string> { ["pseudoLabelThreshold"] = pseudoLabelThreshold.ToString("R", CultureInfo.InvariantCulture) },
            DateTimeOffset.UnixEpoch).Save(path);
    }
}
