using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>A detector with trained weights that can be written into a model bundle.</summary>
public interface IBundledDetector : IAnomalyDetector
{
    /// <summary>Model input width in pixels.</summary>
    int InputWidth { get; }

    /// <summary>Model input height in pixels.</summary>
    int InputHeight { get; }

    /// <summary>Hyper-parameters needed to rebuild the network from the bundle.</summary>
    IReadOnlyDictionary<string, string> BundleParameters { get; }

    /// <summary>The trained parameters as bytes.</summary>
    byte[] ExportWeights();
}

/// <summary>A detector loaded from a bundle, with the calibration that came with it.</summary>
public sealed record LoadedDetector(IAnomalyDetector Detector, BundleManifest Manifest) : IDisposable
{
    /// <summary>The bundle's score calibration.</summary>
    public ScoreCalibration Calibration => Manifest.Calibration;

    public void Dispose() => Detector.Dispose();
}

/// <summary>
/// The registered detectors: their names, and how each is rebuilt from a bundle. Adding a
/// detector means adding it here (and to the train command).
/// </summary>
public static class DetectorCatalog
{
    private static readonly Dictionary<string, Func<ModelBundle, string, Device, IAnomalyDetector>> Loaders = new(StringComparer.Ordinal)
    {
        [AutoencoderDetector.Name] = (bundle, path, device) => AutoencoderDetector.FromBundle(bundle, path, device),
        [IntegratedDetector.Name] = (bundle, path, device) => IntegratedDetector.FromBundle(bundle, path, device),
        [TemporalDetector.Name] = (bundle, path, device) => TemporalDetector.FromBundle(bundle, path, device),
    };

    /// <summary>Names of every registered detector.</summary>
    public static IReadOnlyCollection<string> Names => Loaders.Keys;

    /// <summary>Throws <see cref="ArgumentException"/> listing the known names when <paramref name="name"/> is not one.</summary>
    public static void EnsureKnown(string name)
    {
        if (!Loaders.ContainsKey(name))
        {
            throw new ArgumentException($"unknown detector '{name}' (known: {string.Join(", ", Names)})");
        }
    }

    /// <summary>The model version of a bundle made at <paramref name="time"/>: its UTC timestamp, e.g. 20261123T200000Z.</summary>
    public static string ModelVersionAt(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Packs a trained detector, its calibration and training facts into a bundle.</summary>
    public static ModelBundle CreateBundle(
        IBundledDetector detector,
        ScoreCalibration calibration,
        IReadOnlyDictionary<string, string> training,
        DateTimeOffset createdAt,
        IReadOnlyDictionary<string, ScoreCalibration>? variantCalibrations = null)
    {
        ArgumentNullException.ThrowIfNull(detector);
        var weights = detector.ExportWeights();
        var manifest = new BundleManifest(
            ModelBundle.CurrentFormatVersion,
            detector.Kind,
            ModelVersionAt(createdAt),
            createdAt,
            detector.InputWidth,
            detector.InputHeight,
            detector.BundleParameters,
            calibration,
            training,
            ModelBundle.Hash(weights),
            variantCalibrations);
        return new ModelBundle(manifest, weights);
    }

    /// <summary>
    /// Loads a bundle file and rebuilds its detector on <paramref name="device"/>. Throws
    /// <see cref="InvalidDataFileException"/> for a missing, corrupted or foreign bundle.
    /// </summary>
    public static LoadedDetector Load(string path, Device device) => Load(ModelBundle.Load(path), path, device);

    /// <summary>
    /// Rebuilds the detector of an already read (possibly edited) <paramref name="bundle"/>;
    /// <paramref name="path"/> names it in errors.
    /// </summary>
    public static LoadedDetector Load(ModelBundle bundle, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        if (!Loaders.TryGetValue(bundle.Manifest.Detector, out var load))
        {
            throw new InvalidDataFileException(path, $"model bundle for unknown detector '{bundle.Manifest.Detector}' (known: {string.Join(", ", Names)})");
        }

        return new LoadedDetector(load(bundle, path, device), bundle.Manifest);
    }
}
