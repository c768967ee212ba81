using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Scoring;

namespace StreamAnomaly.Core.Tests.Bundles;

public sealed class ModelBundleTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bundle-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static ModelBundle Sample()
    {
        byte[] weights = [1, 2, 3, 4, 5];
        var manifest = new BundleManifest(
            ModelBundle.CurrentFormatVersion,
            "autoencoder",
            "v1",
            new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero),
            new JsonObject { ["code"] = 512 },
            new Dictionary<string, ScoreCalibration> { ["autoencoder"] = new(10, 2, 12, 99) },
            new Dictionary<string, string> { ["frames"] = "900" });
        return new ModelBundle(manifest, weights);
    }

    private static readonly BundleKey Key = BundleKey.FromText(new string('a', 64));

    private string PathOf(string name) => Path.Combine(folder, name);

    [Fact]
    public void Save_then_load_returns_the_same_manifest_and_weights()
    {
        var bundle = Sample();
        bundle.Save(PathOf("m.sabundle"));
        var loaded = ModelBundle.Load(PathOf("m.sabundle"));
        Assert.Equal(bundle.Weights, loaded.Weights);
        Assert.Equal(bundle.Manifest.Calibrations, loaded.Manifest.Calibrations);
        Assert.Equal(bundle.Manifest.Options.ToJsonString(), loaded.Manifest.Options.ToJsonString());
        Assert.Equal(bundle.Manifest.CreatedAt, loaded.Manifest.CreatedAt);
    }

    [Fact]
    public void Save_leaves_no_partial_file_behind()
    {
        Sample().Save(PathOf("m.sabundle"));
        Assert.Equal(["m.sabundle"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_replaces_an_earlier_bundle()
    {
        Sample().Save(PathOf("m.sabundle"));
        (Sample() with { Weights = [7, 7] }).Save(PathOf("m.sabundle"));
        Assert.Equal([7, 7], ModelBundle.Load(PathOf("m.sabundle")).Weights);
    }

    [Fact]
    public void Save_refuses_to_overwrite_a_file_that_is_not_a_bundle()
    {
        File.WriteAllText(PathOf("notes.txt"), "keep me");
        var error = Assert.Throws<IOException>(() => Sample().Save(PathOf("notes.txt")));
        Assert.Contains("not a model bundle; refusing to overwrite it", error.Message);
        Assert.Equal("keep me", File.ReadAllText(PathOf("notes.txt")));
        Assert.Equal(["notes.txt"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_does_not_write_through_a_planted_partial_link()
    {
        var victim = PathOf("victim.txt");
        File.WriteAllText(victim, "keep me");
        File.CreateSymbolicLink(PathOf("m.sabundle.partial"), victim);
        File.CreateSymbolicLink(PathOf(".m.sabundle.partial"), victim);

        Sample().Save(PathOf("m.sabundle"));

        Assert.Equal("keep me", File.ReadAllText(victim));
        Assert.Equal(Sample().Weights, ModelBundle.Load(PathOf("m.sabundle")).Weights);
    }

    [Fact]
    public void Loading_a_missing_file_names_it()
    {
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("nope.sabundle")));
        Assert.Equal($"{PathOf("nope.sabundle")}: model bundle not found", error.Message);
    }

    [Fact]
    public void Loading_a_file_that_is_not_a_zip_is_rejected()
    {
        File.WriteAllText(PathOf("text.sabundle"), "hello");
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("text.sabundle")));
        Assert.Contains("not a readable model bundle", error.Message);
    }

    [Fact]
    public void Loading_a_truncated_bundle_is_rejected()
    {
        Sample().Save(PathOf("m.sabundle"));
        var bytes = File.ReadAllBytes(PathOf("m.sabundle"));
        File.WriteAllBytes(PathOf("cut.sabundle"), bytes[..(bytes.Length / 2)]);
        Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("cut.sabundle")));
    }

    [Fact]
    public void Loading_a_bundle_with_altered_weights_reports_corruption()
    {
        Sample().Save(PathOf("m.sabundle"));
        Rewrite(PathOf("m.sabundle"), "weights.bin", [1, 2, 3, 4, 6]);
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("weights.bin does not match its SHA-256", error.Message);
    }

    [Fact]
    public void A_manifest_whose_calibration_was_edited_is_refused()
    {
        Sample().Save(PathOf("m.sabundle"));
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"threshold\": 10", "\"threshold\": 1e30", StringComparison.Ordinal);
        Assert.Contains("1e30", manifest);
        Rewrite(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));

        Assert.Equal($"{PathOf("m.sabundle")}: corrupted model bundle (manifest.json does not match its SHA-256 in digest.json: edited or damaged)", error.Message);
    }

    [Fact]
    public void A_calibration_edited_and_rehashed_is_refused_by_a_worker_with_the_signing_key()
    {
        Sample().Save(PathOf("m.sabundle"), Key);
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"threshold\": 10", "\"threshold\": 1e30", StringComparison.Ordinal);
        RewriteAndRehash(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
        Assert.Equal(1e30, ModelBundle.Load(PathOf("m.sabundle")).Manifest.Calibrations["autoencoder"].Threshold);

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle"), Key));

        Assert.Contains("unsigned model bundle refused", error.Message);
    }

    [Fact]
    public void A_bundle_signed_with_the_key_loads_with_it()
    {
        Sample().Save(PathOf("m.sabundle"), Key);
        Assert.Equal(Sample().Weights, ModelBundle.Load(PathOf("m.sabundle"), Key).Weights);
    }

    [Fact]
    public void An_unsigned_bundle_is_refused_when_a_key_is_configured()
    {
        Sample().Save(PathOf("m.sabundle"));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle"), Key));
        Assert.StartsWith($"{PathOf("m.sabundle")}: unsigned model bundle refused: a bundle signing key is configured", error.Message);
    }

    [Fact]
    public void A_bundle_signed_with_another_key_is_refused()
    {
        Sample().Save(PathOf("m.sabundle"), BundleKey.FromText(new string('b', 64)));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle"), Key));
        Assert.Contains("signature does not match the configured signing key", error.Message);
    }

    [Fact]
    public void A_duplicated_manifest_entry_is_refused()
    {
        Sample().Save(PathOf("m.sabundle"));
        using (var zip = ZipFile.Open(PathOf("m.sabundle"), ZipArchiveMode.Update))
        {
            using var stream = zip.CreateEntry("manifest.json").Open();
            stream.Write("{\"formatVersion\": 3}"u8);
        }

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));

        Assert.Equal($"{PathOf("m.sabundle")}: corrupted model bundle (entry 'manifest.json' appears twice)", error.Message);
    }

    [Fact]
    public void An_unexpected_entry_is_refused()
    {
        Sample().Save(PathOf("m.sabundle"));
        using (var zip = ZipFile.Open(PathOf("m.sabundle"), ZipArchiveMode.Update))
        {
            zip.CreateEntry("extra.bin");
        }

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));

        Assert.Contains("unexpected entry 'extra.bin'", error.Message);
    }

    [Fact]
    public void An_entry_declaring_more_than_its_limit_is_refused_before_it_is_read()
    {
        Sample().Save(PathOf("m.sabundle"));
        Rewrite(PathOf("m.sabundle"), "manifest.json", new byte[ModelBundle.MaxManifestBytes + 1]);

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));

        Assert.Contains($"manifest.json declares {ModelBundle.MaxManifestBytes + 1} bytes, more than the {ModelBundle.MaxManifestBytes} a bundle may hold", error.Message);
    }

    [Fact]
    public void A_null_manifest_is_reported_as_corrupt()
    {
        Sample().Save(PathOf("m.sabundle"));
        RewriteAndRehash(PathOf("m.sabundle"), "manifest.json", "null"u8.ToArray());

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));

        Assert.Contains("corrupted model bundle (manifest is a JSON null, not an object)", error.Message);
    }

    [Fact]
    public void A_fifo_in_place_of_a_bundle_is_refused_without_blocking()
    {
        var fifo = PathOf("pipe.sabundle");
        Assert.Equal(0, MakeFifo(fifo, 0x1B6));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(fifo));
        Assert.Equal($"{fifo}: is a FIFO (named pipe), not a regular file; refusing to read it", error.Message);
    }

    [Fact]
    public void Loading_a_bundle_of_a_newer_format_version_says_which()
    {
        Sample().Save(PathOf("m.sabundle"));
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"formatVersion\": 3", "\"formatVersion\": 7", StringComparison.Ordinal);
        Rewrite(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("format version 7 is not supported", error.Message);
        Assert.Contains("newer StreamAnomaly", error.Message);
    }

    [Fact]
    public void Loading_a_bundle_of_the_first_format_says_how_to_retrain_it()
    {
        Sample().Save(PathOf("m.sabundle"));
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"formatVersion\": 3", "\"formatVersion\": 1", StringComparison.Ordinal);
        Rewrite(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("format version 1 is not supported", error.Message);
        Assert.Contains("retrain it with `streamanomaly train`", error.Message);
    }

    [Fact]
    public void Loading_a_bundle_of_the_second_format_says_only_its_weights_were_hashed()
    {
        using (var zip = ZipFile.Open(PathOf("v2.sabundle"), ZipArchiveMode.Create))
        {
            using var manifest = zip.CreateEntry("manifest.json").Open();
            manifest.Write("{\"formatVersion\": 2}"u8);
        }

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("v2.sabundle")));

        Assert.Contains("format version 2 is not supported (this build reads version 3)", error.Message);
        Assert.Contains("hashed only the weights", error.Message);
    }

    [Fact]
    public void Loading_a_manifest_that_is_not_json_reports_corruption()
    {
        Sample().Save(PathOf("m.sabundle"));
        Rewrite(PathOf("m.sabundle"), "manifest.json", "{ not json"u8.ToArray());
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("manifest", error.Message);
    }

    [Fact]
    public void Loading_a_manifest_without_a_detector_name_reports_corruption()
    {
        Sample().Save(PathOf("m.sabundle"));
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"detector\": \"autoencoder\",", string.Empty, StringComparison.Ordinal);
        RewriteAndRehash(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("corrupted model bundle", error.Message);
    }

    [Fact]
    public void Loading_a_zip_without_a_manifest_says_it_is_not_a_bundle()
    {
        using (var zip = ZipFile.Open(PathOf("other.zip"), ZipArchiveMode.Create))
        {
            zip.CreateEntry("readme.txt");
        }

        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("other.zip")));
        Assert.Contains("not a model bundle", error.Message);
    }

    private static string ReadEntry(string path, string entry)
    {
        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }

    /// <summary>Replaces an entry, leaving digest.json as it was (a careless edit).</summary>
    private static void Rewrite(string path, string entry, byte[] content)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry(entry)!.Delete();
        using var stream = zip.CreateEntry(entry).Open();
        stream.Write(content);
    }

    /// <summary>Replaces an entry and writes a matching unsigned digest.json (an attacker who read the format).</summary>
    private static void RewriteAndRehash(string path, string entry, byte[] content)
    {
        Rewrite(path, entry, content);
        var hashes = new JsonObject
        {
            ["manifest.json"] = ModelBundle.Hash(Encoding.UTF8.GetBytes(ReadEntry(path, "manifest.json"))),
            ["weights.bin"] = ModelBundle.Hash(ReadBytes(path, "weights.bin")),
        };
        Rewrite(path, "digest.json", Encoding.UTF8.GetBytes(new JsonObject { ["sha256"] = hashes, ["hmacSha256"] = null }.ToJsonString()));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static byte[] ReadBytes(string path, string entry)
    {
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry(entry)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
