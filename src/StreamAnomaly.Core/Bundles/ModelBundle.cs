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
/// <param name="State">What the detector learned besides its weights (the temporal detector's cycle facts), as JSON; null when nothing.</param>
public sealed record BundleManifest(
    int FormatVersion,
    string Detector,
    string ModelVersion,
    DateTimeOffset CreatedAt,
    JsonObject Options,
    IReadOnlyDictionary<string, ScoreCalibration> Calibrations,
    IReadOnlyDictionary<string, string> Training,
    JsonObject? State = null);

/// <summary>
/// A versioned, single-file model bundle: a zip archive of exactly three entries,
/// <c>manifest.json</c> (<see cref="BundleManifest"/>), <c>weights.bin</c> (the detector's
/// serialised parameters) and <c>digest.json</c>: the SHA-256 of the other two entries' bytes and,
/// when the bundle was signed, an HMAC-SHA256 of those hashes (<see cref="BundleKey"/>). Nothing
/// in a bundle is trusted before its hash matched, so an edited calibration is as corrupt as
/// edited weights; a reader configured with a key also refuses a bundle that key did not sign.
/// Workers and the <c>eval</c> command load bundles; calibration statistics travel inside, never
/// recomputed at serving time.
/// </summary>
public sealed record ModelBundle(BundleManifest Manifest, byte[] Weights)
{
    /// <summary>
    /// The bundle layout this code reads and writes. 1: untyped settings; 2: options records,
    /// only the weights hashed; 3: every entry hashed in <c>digest.json</c>, optionally signed.
    /// </summary>
    public const int CurrentFormatVersion = 3;

    /// <summary>
    /// Largest <c>manifest.json</c> read. A manifest (options, calibrations, training facts, the
    /// temporal detector's one-cycle template) is a few KB; 1 MiB leaves room for any detector
    /// while a crafted manifest cannot make a worker parse gigabytes of JSON.
    /// </summary>
    public const int MaxManifestBytes = 1 << 20;

    /// <summary>
    /// Largest <c>weights.bin</c> read: 1 GiB, ten times the largest network here (the integrated
    /// CNN on a full ResNet-50, about 100 MB). The reader never allocates more than this, whatever
    /// the zip headers claim.
    /// </summary>
    public const int MaxWeightsBytes = 1 << 30;

    /// <summary>Largest <c>digest.json</c> read: two hashes and a signature take about 300 bytes.</summary>
    public const int MaxDigestBytes = 4096;

    /// <summary>Entry holding the manifest.</summary>
    public const string ManifestEntry = "manifest.json";

    /// <summary>Entry holding the weights.</summary>
    public const string WeightsEntry = "weights.bin";

    /// <summary>Entry holding the hashes of the other two and the optional signature.</summary>
    public const string DigestEntry = "digest.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Hex SHA-256 of <paramref name="bytes"/>.</summary>
    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// Writes the bundle atomically, signed with <paramref name="key"/> when given: into a new
    /// temporary file beside <paramref name="path"/> (a random name, created exclusively, so a
    /// planted file or link there is never written through), then a rename, so readers never see
    /// half a bundle. Replaces an existing model bundle at <paramref name="path"/>, but refuses
    /// (<see cref="IOException"/>) to replace anything else: a folder, a FIFO, a file that is not a bundle.
    /// </summary>
    public void Save(string path, BundleKey? key = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        EnsureReplaceable(full);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(Manifest, JsonOptions);
        var digest = BundleDigest.Of(manifest, Weights, key);

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var temp = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create))
            {
                Write(zip, ManifestEntry, manifest, CompressionLevel.Optimal);
                Write(zip, WeightsEntry, Weights, CompressionLevel.Fastest);
                Write(zip, DigestEntry, digest.ToJson(), CompressionLevel.Optimal);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Reads and verifies a bundle: every entry's hash, and with <paramref name="key"/> its
    /// signature (an unsigned bundle or one signed with another key is refused). Throws
    /// <see cref="InvalidDataFileException"/> naming the file when it is missing, not a regular
    /// file, not a bundle, from another format version, holds a duplicate, unexpected or
    /// oversize entry, or fails its digest or signature.
    /// </summary>
    public static ModelBundle Load(string path, BundleKey? key = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var kind = FileKinds.Of(path);
        if (kind == FileKind.Missing)
        {
            throw new InvalidDataFileException(path, "model bundle not found");
        }

        if (kind != FileKind.Regular)
        {
            throw FileKinds.NotRegular(path, kind);
        }

        try
        {
            using var zip = ZipFile.OpenRead(path);
            var entries = Entries(path, zip);
            var manifestBytes = Read(path, entries[ManifestEntry], MaxManifestBytes);
            CheckFormatVersion(path, manifestBytes);
            var weights = Read(path, entries.GetValueOrDefault(WeightsEntry) ?? throw Corrupt(path, $"no {WeightsEntry}"), MaxWeightsBytes);
            var digestBytes = Read(path, entries.GetValueOrDefault(DigestEntry) ?? throw Corrupt(path, $"no {DigestEntry}"), MaxDigestBytes);
            BundleDigest.Read(path, digestBytes).Verify(path, manifestBytes, weights, key);
            return new ModelBundle(ReadManifest(path, manifestBytes), weights);
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

    /// <summary>True when <paramref name="path"/> is a regular file that opens as a zip holding a <c>manifest.json</c> (a bundle of any format version).</summary>
    public static bool LooksLikeBundle(string path)
    {
        if (FileKinds.Of(path) != FileKind.Regular)
        {
            return false;
        }

        try
        {
            using var zip = ZipFile.OpenRead(path);
            return zip.Entries.Any(static e => e.FullName == ManifestEntry);
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>Throws <see cref="IOException"/> unless <paramref name="path"/> is missing or a model bundle, which <see cref="Save"/> may replace.</summary>
    public static void EnsureReplaceable(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var kind = FileKinds.Of(full);
        if (kind == FileKind.Missing)
        {
            return;
        }

        if (kind != FileKind.Regular)
        {
            throw new IOException($"{full}: is {FileKinds.Describe(kind)}; refusing to replace it with a model bundle");
        }

        if (!LooksLikeBundle(full))
        {
            throw new IOException($"{full}: exists and is not a model bundle; refusing to overwrite it (choose another file name)");
        }
    }

    private static void Write(ZipArchive zip, string name, ReadOnlySpan<byte> bytes, CompressionLevel level)
    {
        using var stream = zip.CreateEntry(name, level).Open();
        stream.Write(bytes);
    }

    /// <summary>The entries by name; a duplicate, an unexpected entry or a missing manifest is refused.</summary>
    private static Dictionary<string, ZipArchiveEntry> Entries(string path, ZipArchive zip)
    {
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            if (!entries.TryAdd(entry.FullName, entry))
            {
                throw Corrupt(path, $"entry '{entry.FullName}' appears twice");
            }
        }

        if (!entries.ContainsKey(ManifestEntry))
        {
            throw new InvalidDataFileException(path, $"not a model bundle (no {ManifestEntry})");
        }

        if (entries.Keys.FirstOrDefault(static n => n is not (ManifestEntry or WeightsEntry or DigestEntry)) is { } unexpected)
        {
            throw Corrupt(path, $"unexpected entry '{unexpected}'; a bundle holds only {ManifestEntry}, {WeightsEntry} and {DigestEntry}");
        }

        return entries;
    }

    /// <summary>An entry's bytes, never more than <paramref name="limit"/> of them, whatever its header declares.</summary>
    private static byte[] Read(string path, ZipArchiveEntry entry, int limit)
    {
        if (entry.Length > limit)
        {
            throw Corrupt(path, $"{entry.FullName} declares {entry.Length} bytes, more than the {limit} a bundle may hold");
        }

        var bytes = new byte[entry.Length];
        using var stream = entry.Open();
        stream.ReadExactly(bytes);
        if (stream.ReadByte() != -1)
        {
            throw Corrupt(path, $"{entry.FullName} holds more bytes than its header declares");
        }

        return bytes;
    }

    private static InvalidDataFileException Corrupt(string path, string problem) => new(path, $"corrupted model bundle ({problem})");

    private static void CheckFormatVersion(string path, byte[] manifest)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(manifest);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, $"manifest is not JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Corrupt(path, $"manifest is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object");
            }

            if (!document.RootElement.TryGetProperty("formatVersion", out var element) || !element.TryGetInt32(out var version))
            {
                throw Corrupt(path, "manifest has no formatVersion");
            }

            if (version != CurrentFormatVersion)
            {
                var why = version switch
                {
                    < 2 => "it was written by an earlier StreamAnomaly, whose detectors kept their settings as untyped text; retrain it with `streamanomaly train` (the README's commands give the settings)",
                    < CurrentFormatVersion => "it was written by an earlier StreamAnomaly, whose bundles hashed only the weights, so an edited manifest went unnoticed; retrain it with `streamanomaly train`",
                    _ => "it was written by a newer StreamAnomaly; use that version",
                };
                throw new InvalidDataFileException(
                    path,
                    $"model bundle format version {version} is not supported (this build reads version {CurrentFormatVersion}): {why}");
            }
        }
    }

    private static BundleManifest ReadManifest(string path, byte[] manifest)
    {
        try
        {
            return JsonSerializer.Deserialize<BundleManifest>(manifest, JsonOptions) ?? throw Corrupt(path, "empty manifest");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw Corrupt(path, $"manifest: {e.Message}");
        }
    }
}

/// <summary>
/// <c>digest.json</c>: the SHA-256 of a bundle's manifest and weights entries and, for a signed
/// bundle, the HMAC-SHA256 of <see cref="SignedText"/> (the two hashes in a fixed text form, so
/// the signature covers exactly the bytes of every other entry).
/// </summary>
/// <param name="Sha256">Hex SHA-256 of each other entry, by entry name.</param>
/// <param name="HmacSha256">Hex HMAC-SHA256 of <see cref="SignedText"/>; null when unsigned.</param>
internal sealed record BundleDigest(IReadOnlyDictionary<string, string> Sha256, string? HmacSha256)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static BundleDigest Of(byte[] manifest, byte[] weights, BundleKey? key)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ModelBundle.ManifestEntry] = ModelBundle.Hash(manifest),
            [ModelBundle.WeightsEntry] = ModelBundle.Hash(weights),
        };
        var digest = new BundleDigest(hashes, null);
        return key is null ? digest : digest with { HmacSha256 = key.Sign(digest.SignedText()) };
    }

    public static BundleDigest Read(string path, byte[] bytes)
    {
        try
        {
            var digest = JsonSerializer.Deserialize<BundleDigest>(bytes, Json);
            return digest is not null && digest.Sha256.Count == 2 && digest.Sha256.ContainsKey(ModelBundle.ManifestEntry) && digest.Sha256.ContainsKey(ModelBundle.WeightsEntry)
                ? digest
                : throw new InvalidDataFileException(path, $"corrupted model bundle ({ModelBundle.DigestEntry} must hash exactly {ModelBundle.ManifestEntry} and {ModelBundle.WeightsEntry})");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataFileException(path, $"corrupted model bundle ({ModelBundle.DigestEntry}: {e.Message})", e);
        }
    }

    /// <summary>The signed bytes: a header line, then "NAME SHA256" per entry in name order, each line ending in \n.</summary>
    public byte[] SignedText() => System.Text.Encoding.UTF8.GetBytes(
        $"streamanomaly-bundle/{ModelBundle.CurrentFormatVersion}\n" + string.Concat(Sha256.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => $"{p.Key} {p.Value}\n")));

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Throws <see cref="InvalidDataFileException"/> unless both hashes match and, with <paramref name="key"/>, the signature is that key's.</summary>
    public void Verify(string path, byte[] manifest, byte[] weights, BundleKey? key)
    {
        foreach (var (entry, bytes) in new[] { (ModelBundle.ManifestEntry, manifest), (ModelBundle.WeightsEntry, weights) })
        {
            if (!string.Equals(ModelBundle.Hash(bytes), Sha256[entry], StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataFileException(path, $"corrupted model bundle ({entry} does not match its SHA-256 in {ModelBundle.DigestEntry}: edited or damaged)");
            }
        }

        if (key is null)
        {
            return;
        }

        if (HmacSha256 is null)
        {
            throw new InvalidDataFileException(path, "unsigned model bundle refused: a bundle signing key is configured (sign it: `streamanomaly calibrate` or `train` with --sign-key)");
        }

        if (!key.Verifies(SignedText(), HmacSha256))
        {
            throw new InvalidDataFileException(path, "model bundle signature does not match the configured signing key (signed with another key, or edited after signing)");
        }
    }
}
