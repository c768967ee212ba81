using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Aae;
using StreamAnomaly.Vision.Detectors.AnoSeg;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.CutPaste;
using StreamAnomaly.Vision.Detectors.Cycle;
using StreamAnomaly.Vision.Detectors.Ganomaly;
using StreamAnomaly.Vision.Detectors.Inr;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors.IsolationForest;
using StreamAnomaly.Vision.Detectors.Lof;
using StreamAnomaly.Vision.Detectors.PatchCore;
using StreamAnomaly.Vision.Detectors.Rda;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Detectors.Vae;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>A detector loaded from a bundle, with the bundle's manifest.</summary>
public sealed record LoadedDetector(IBundledDetector Detector, BundleManifest Manifest) : IDisposable
{
    /// <summary>The default variant's calibration.</summary>
    public ScoreCalibration Calibration => Manifest.Calibrations[Detector.Variants[0]];

    public void Dispose() => Detector.Dispose();
}

/// <summary>
/// The registered detectors. Adding a detector is one folder in Detectors/ (network, options,
/// definition) and one line in <see cref="All"/>; every command, the workers and the contract
/// tests then take it.
/// </summary>
public static class DetectorCatalog
{
    /// <summary>Every registered detector, in the order <c>streamanomaly detectors</c> lists them.</summary>
    public static IReadOnlyList<IDetectorDefinition> All { get; } =
    [
        new AutoencoderDefinition(),
        new IntegratedDefinition(),
        new TemporalDefinition(),
        new PatchCoreDefinition(),
        new CycleDefinition(),
        new LofDefinition(),
        new IsolationForestDefinition(),
        new VaeDefinition(),
        new AaeDefinition(),
        new RdaDefinition(),
        new GanomalyDefinition(),
        new CutPasteDefinition(),
        new InrDefinition(),
        new AnoSegDefinition(),
    ];

    /// <summary>Names of every registered detector.</summary>
    public static IReadOnlyList<string> Names => All.Select(static d => d.Name).ToArray();

    /// <summary>The detector called <paramref name="name"/>; <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static IDetectorDefinition Get(string name) =>
        All.FirstOrDefault(d => d.Name == name) ?? throw new ArgumentException($"unknown detector '{name}' (known: {string.Join(", ", Names)})");

    /// <summary>The model version of a bundle made at <paramref name="time"/>: its UTC timestamp, e.g. 20261123T200000Z.</summary>
    public static string ModelVersionAt(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Packs a trained detector, every variant's calibration and the training facts into a bundle.</summary>
    public static ModelBundle CreateBundle(
        IBundledDetector detector,
        IReadOnlyDictionary<string, ScoreCalibration> calibrations,
        IReadOnlyDictionary<string, string> training,
        DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(calibrations);
        if (!calibrations.ContainsKey(detector.Variants[0]))
        {
            throw new ArgumentException($"no calibration for {detector.Kind}'s default variant '{detector.Variants[0]}'", nameof(calibrations));
        }

        var weights = detector.ExportWeights();
        var manifest = new BundleManifest(
            ModelBundle.CurrentFormatVersion,
            detector.Kind,
            ModelVersionAt(createdAt),
            createdAt,
            DetectorOptionsJson.ToJson(detector.Options),
            detector.Variants.Where(calibrations.ContainsKey).ToDictionary(v => v, v => calibrations[v]),
            training,
            detector.ExportState());
        return new ModelBundle(manifest, weights);
    }

    /// <summary>
    /// Loads a bundle file and rebuilds its detector on <paramref name="device"/>; with
    /// <paramref name="key"/>, only a bundle that key signed. Throws
    /// <see cref="InvalidDataFileException"/> for a missing, corrupted, unsigned or foreign bundle.
    /// </summary>
    public static LoadedDetector Load(string path, Device device, BundleKey? key = null) => Load(ModelBundle.Load(path, key), path, device);

    /// <summary>
    /// Rebuilds the detector of an already read (possibly edited) <paramref name="bundle"/>;
    /// <paramref name="path"/> names it in errors. The options are validated against their limits
    /// before any network is built, so a manifest cannot make this allocate more than they allow.
    /// </summary>
    public static LoadedDetector Load(ModelBundle bundle, string path, Device device)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var manifest = bundle.Manifest;
        var definition = All.FirstOrDefault(d => d.Name == manifest.Detector)
            ?? throw new InvalidDataFileException(path, $"model bundle for unknown detector '{manifest.Detector}' (known: {string.Join(", ", Names)})");
        var options = ReadOptions(definition, manifest, path);
        var detector = definition.Load(options, bundle.Weights, manifest.State, path, device);
        if (!manifest.Calibrations.ContainsKey(detector.Variants[0]))
        {
            detector.Dispose();
            throw new InvalidDataFileException(path, $"corrupted model bundle (no calibration for the default variant '{detector.Variants[0]}')");
        }

        return new LoadedDetector(detector, manifest);
    }

    /// <summary>The bundle's options, validated; <see cref="InvalidDataFileException"/> naming the option otherwise.</summary>
    public static DetectorOptions ReadOptions(IDetectorDefinition definition, BundleManifest manifest, string path)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(manifest);
        try
        {
            return DetectorOptionsJson.Read(definition.Defaults.GetType(), manifest.Options);
        }
        catch (InvalidOptionsException e)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle ({e.Message})", e);
        }
    }
}
