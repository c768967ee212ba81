using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Core.Bundles;

/// <summary>
/// What a model bundle says about itself (<c>manifest.json</c> inside the bundle).
/// </summary>
/// <param name="FormatVersion">Bundle layout version; readers accept only <see cref="ModelBundle.CurrentFormatVersion"/>.</param>
/// <param name="Detector">Registered detector name, e.g. "autoencoder".</param>
/// <param name="ModelVersion">Version of this trained model (its UTC timestamp), for roll-outs.</param>
/// <param name="CreatedAt">When training finished (from the injected clock); <c>calibrate</c> keeps it and records its own time in <paramref name="Training"/>.</param>
/// <param name="Options">The detector's options record as JSON (<see cref="Detection.DetectorOptionsJson"/>): everything needed to rebuild its networks and score.</param>
/// <param name="Calibrations">Score calibration of each scoring variant, fitted on normal validation frames, by variant name; the detector's first variant is the default one.</param>
/// <param name="Training">Facts about the training run, for people (frames, epochs, losses, seconds).</param>
/// <param name="WeightsSha256">Hex SHA-256 of the weights entry; a mismatch means a corrupted bundle.</param>
/// <param name="State">What the detector learned besides its weights (the temporal detector's cycle facts), as JSON; null when nothing.</param>
public sealed record BundleManifest(
    int FormatVersion,
    string Detector,
    string ModelVersion,
    DateTimeOffset CreatedAt,
    JsonObject Options,
    IReadOnlyDictionary<string, ScoreCalibration> Calibrations,
    IReadOnlyDictionary<string, string> Training,
    string WeightsSha256,
    JsonObject? State = null);

/// <summary>
/// A versioned, single-file model bundle: a zip archive holding <c>manifest.json</c> and
/// <c>weights.bin</c> (the detector's serialised parameters). Workers and the <c>eval</c> command
/// load bundles; calibration statistics travel inside, never recomputed at serving time.
/// </summary>
public sealed record ModelBundle(BundleManifest Manifest, byte[] Weights)
{
    /// <summary>The bundle layout this code reads and writes.</summary>
    public const int CurrentFormatVersion = 2;

    private const string ManifestEntry = "manifest.json";
    private const string WeightsEntry = "weights.bin";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Hex SHA-256 of <paramref name="weights"/>, as stored in the manifest.</summary>
    public static string Hash(byte[] weights) => Convert.ToHexStringLower(SHA256.HashData(weights));

    /// <summary>
    /// Writes the bundle atomically: to a temporary file beside <paramref name="path"/>, then a
    /// rename, so readers never see half a bundle.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Manifest.WeightsSha256 != Hash(Weights))
        {
            throw new InvalidOperationException("the manifest's weights hash does not match the weights");
        }

        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var temp = full + ".partial";
        try
        {
            using (var stream = File.Create(temp))
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create))
            {
                using (var manifest = zip.CreateEntry(ManifestEntry).Open())
                {
                    JsonSerializer.Serialize(manifest, Manifest, JsonOptions);
                }

                using var weights = zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open();
                weights.Write(Weights);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Reads and verifies a bundle. Throws <see cref="InvalidDataFileException"/> naming the file
    /// when it is missing, not a bundle, from another format version, or corrupted.
    /// </summary>
    public static ModelBundle Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new InvalidDataFileException(path, "model bundle not found");
        }

        try
        {
            using var zip = ZipFile.OpenRead(path);
            var manifestEntry = zip.GetEntry(ManifestEntry)
                ?? throw new InvalidDataFileException(path, $"not a model bundle (no {ManifestEntry})");
            var weightsEntry = zip.GetEntry(WeightsEntry)
                ?? throw new InvalidDataFileException(path, $"not a model bundle (no {WeightsEntry})");

            BundleManifest? manifest;
            using (var stream = manifestEntry.Open())
            {
                manifest = ReadManifest(path, stream);
            }

            using var weightStream = weightsEntry.Open();
            using var buffer = new MemoryStream();
            weightStream.CopyTo(buffer);
            var weights = buffer.ToArray();
            if (Hash(weights) != manifest.WeightsSha256)
            {
                throw new InvalidDataFileException(path, "corrupted model bundle (weights do not match their SHA-256)");
            }

            return new ModelBundle(manifest, weights);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataFileException(path, $"not a readable model bundle ({e.Message})", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataFileException(path, $"cannot read model bundle ({e.Message})", e);
        }
    }

    private static BundleManifest ReadManifest(string path, Stream stream)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle (manifest is not JSON: {e.Message})", e);
        }

        using (document)
        {
            if (!document.RootElement.TryGetProperty("formatVersion", out var version) || version.ValueKind != JsonValueKind.Number)
            {
                throw new InvalidDataFileException(path, "corrupted model bundle (manifest has no formatVersion)");
            }

            if (version.GetInt32() != CurrentFormatVersion)
            {
                var why = version.GetInt32() < CurrentFormatVersion
                    ? "it was written by an earlier StreamAnomaly, whose detectors kept their settings as untyped text; retrain it with `streamanomaly train` (the README's commands give the settings)"
                    : "it was written by a newer StreamAnomaly; use that version";
                throw new InvalidDataFileException(
                    path,
                    $"model bundle format version {version.GetInt32()} is not supported (this build reads version {CurrentFormatVersion}): {why}");
            }

            try
            {
                return document.RootElement.Deserialize<BundleManifest>(JsonOptions)
                    ?? throw new InvalidDataFileException(path, "corrupted model bundle (empty manifest)");
            }
            catch (JsonException e)
            {
                throw new InvalidDataFileException(path, $"corrupted model bundle (manifest: {e.Message})", e);
            }
        }
    }
}
