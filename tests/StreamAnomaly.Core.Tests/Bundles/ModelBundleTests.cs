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
            new Dictionary<string, string> { ["frames"] = "900" },
            ModelBundle.Hash(weights));
        return new ModelBundle(manifest, weights);
    }

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
    public void Save_refuses_a_manifest_whose_hash_does_not_match_the_weights()
    {
        var bundle = Sample() with { Weights = [9, 9] };
        Assert.Throws<InvalidOperationException>(() => bundle.Save(PathOf("m.sabundle")));
        Assert.Empty(Directory.GetFiles(folder));
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
        Assert.Contains("weights do not match their SHA-256", error.Message);
    }

    [Fact]
    public void Loading_a_bundle_of_a_newer_format_version_says_which()
    {
        Sample().Save(PathOf("m.sabundle"));
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"formatVersion\": 2", "\"formatVersion\": 7", StringComparison.Ordinal);
        Rewrite(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("format version 7 is not supported", error.Message);
        Assert.Contains("newer StreamAnomaly", error.Message);
    }

    [Fact]
    public void Loading_a_bundle_of_the_first_format_says_how_to_retrain_it()
    {
        Sample().Save(PathOf("m.sabundle"));
        var manifest = ReadEntry(PathOf("m.sabundle"), "manifest.json").Replace("\"formatVersion\": 2", "\"formatVersion\": 1", StringComparison.Ordinal);
        Rewrite(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
        var error = Assert.Throws<InvalidDataFileException>(() => ModelBundle.Load(PathOf("m.sabundle")));
        Assert.Contains("format version 1 is not supported", error.Message);
        Assert.Contains("retrain it with `streamanomaly train`", error.Message);
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
        Rewrite(PathOf("m.sabundle"), "manifest.json", Encoding.UTF8.GetBytes(manifest));
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

    private static void Rewrite(string path, string entry, byte[] content)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry(entry)!.Delete();
        using var stream = zip.CreateEntry(entry).Open();
        stream.Write(content);
    }
}
