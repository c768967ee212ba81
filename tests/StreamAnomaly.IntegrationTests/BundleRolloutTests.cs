using System.IO.Compression;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Host;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Models;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

/// <summary>A newer model bundle is rolled out to running workers without a restart.</summary>
[Collection(nameof(PlantCollection))]
public sealed class BundleRolloutTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("bundle-rollout-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly BundleKey Key = BundleKey.FromText("k3y-for-the-rollout-tests-0123456789");

    private static void WriteBundle(string path, ScoreCalibration calibration, DateTimeOffset createdAt, BundleKey? key = null)
    {
        using var detector = new AutoencoderDetector(new ConvAutoencoder(32, 4, 16), new AutoencoderOptions { Size = 32, Width = 4, Code = 16 }, CPU);
        DetectorCatalog.CreateBundle(detector, new Dictionary<string, ScoreCalibration> { [detector.Variants[0]] = calibration }, new Dictionary<string, string>(), createdAt).Save(path, key);
    }

    /// <summary>
    /// A one-camera plant whose worker loads a bundle file (version 1: nothing is anomalous), polled
    /// every 200 ms; with <paramref name="keyFile"/>, the worker needs bundles signed with that key.
    /// </summary>
    private async Task<(string Path, PlantNode Node, PlantRecorder Recorder, System.Collections.Concurrent.ConcurrentQueue<string> Log)> StartOnVersionOneAsync(string? keyFile = null)
    {
        var path = Path.Combine(_root, "model.sabundle");
        WriteBundle(path, new ScoreCalibration(Threshold: 1e12, Min: 0, Max: 1, Percentile: 99), DateTimeOffset.UnixEpoch, keyFile is null ? null : Key);
        var settings = PlantFixture.Plant(lines: 1, perLine: 1) with
        {
            Worker = new WorkerConfig { Bundles = [path], BundlePollInterval = TimeSpan.FromMilliseconds(200), BundleKeyFile = keyFile },
        };
        var recorder = new PlantRecorder();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var node = await PlantNode.StartAsync(settings, new NodeServices { Observer = recorder, Log = log.Enqueue });
        return (path, node, recorder, log);
    }

    [Fact]
    public async Task A_new_bundle_version_replaces_the_running_detector_without_a_restart()
    {
        // version 1 calls nothing anomalous; version 2 calls everything anomalous
        var (path, node, recorder, log) = await StartOnVersionOneAsync();
        await using var running = node;
        Assert.True(await Eventually.True(() => recorder.Decided >= 10, TimeSpan.FromSeconds(60)), "frames decided with version 1");
        Assert.Empty(recorder.Alarms);

        WriteBundle(path, new ScoreCalibration(Threshold: 0, Min: 0, Max: 1e-9, Percentile: 99), DateTimeOffset.UnixEpoch.AddDays(1));
        Assert.True(await Eventually.True(() => log.Any(l => l.Contains("reloaded", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)), "the new version is loaded");
        Assert.True(await Eventually.True(() => recorder.Raised("line-a").Any(), TimeSpan.FromSeconds(30)), "version 2 scores reach the aggregator");
    }

    [Fact]
    public async Task A_new_bundle_version_for_one_line_changes_that_lines_verdicts_and_leaves_the_other_line_alone()
    {
        // two lines, each with its own bundle; version 1 calls nothing anomalous, version 2 everything
        var (a, b) = (Path.Combine(_root, "line-a.sabundle"), Path.Combine(_root, "line-b.sabundle"));
        var never = new ScoreCalibration(Threshold: 1e12, Min: 0, Max: 1, Percentile: 99);
        WriteBundle(a, never, DateTimeOffset.UnixEpoch);
        WriteBundle(b, never, DateTimeOffset.UnixEpoch);
        var plant = PlantFixture.Plant(lines: 2, perLine: 1);
        var settings = plant with
        {
            Worker = new WorkerConfig { BundlePollInterval = TimeSpan.FromMilliseconds(200) },
            Lines = [plant.Lines[0] with { Bundles = [a] }, plant.Lines[1] with { Bundles = [b] }],
        };
        var recorder = new PlantRecorder();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var node = await PlantNode.StartAsync(settings, new NodeServices { Observer = recorder, Log = log.Enqueue });
        Assert.True(await Eventually.True(() => recorder.Decided >= 10, TimeSpan.FromSeconds(60)), "frames decided with version 1");

        WriteBundle(b, new ScoreCalibration(Threshold: 0, Min: 0, Max: 1e-9, Percentile: 99), DateTimeOffset.UnixEpoch.AddDays(1));
        Assert.True(await Eventually.True(() => recorder.Raised("line-b").Any(), TimeSpan.FromSeconds(30)), "line b's version 2 raises: " + string.Join("\n", log));
        var decided = recorder.Decided;
        Assert.True(await Eventually.True(() => recorder.Decided >= decided + 10, TimeSpan.FromSeconds(30)), "both lines keep being decided");
        Assert.Empty(recorder.Raised("line-a"));
        Assert.Single(log, l => l.Contains("model bundle reloaded", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains($"reloaded: {b}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_corrupt_new_bundle_is_refused_and_the_running_version_keeps_scoring()
    {
        var (path, node, recorder, log) = await StartOnVersionOneAsync();
        await using var running = node;
        Assert.True(await Eventually.True(() => recorder.Decided >= 5, TimeSpan.FromSeconds(60)));

        await File.WriteAllTextAsync(path, "not a bundle");
        Assert.True(await Eventually.True(() => log.Any(l => l.Contains("reload failed", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)), string.Join("\n", log));
        var decided = recorder.Decided;
        Assert.True(await Eventually.True(() => recorder.Decided >= decided + 10, TimeSpan.FromSeconds(30)), "the old version keeps scoring");
    }

    [Fact]
    public async Task A_bundle_with_a_null_manifest_is_refused_and_counted_and_the_next_good_version_still_loads()
    {
        // version 1 calls nothing anomalous; version 2 calls everything anomalous
        var (path, node, recorder, log) = await StartOnVersionOneAsync();
        await using var running = node;
        Assert.True(await Eventually.True(() => recorder.Decided >= 5, TimeSpan.FromSeconds(60)));

        var bad = Path.Combine(_root, "bad.sabundle");
        WriteBundle(bad, new ScoreCalibration(Threshold: 0, Min: 0, Max: 1e-9, Percentile: 99), DateTimeOffset.UnixEpoch.AddDays(1));
        using (var zip = ZipFile.Open(bad, ZipArchiveMode.Update))
        {
            zip.GetEntry("manifest.json")!.Delete();
            using var stream = zip.CreateEntry("manifest.json").Open();
            stream.Write("null"u8);
        }

        File.Move(bad, path, overwrite: true);
        Assert.True(await Eventually.True(() => node.Metrics.BundleReloads.WithLabels("refused").Value >= 1, TimeSpan.FromSeconds(10)), string.Join("\n", log));
        Assert.Contains(log, l => l.Contains("manifest is a JSON null", StringComparison.Ordinal));
        var decided = recorder.Decided;
        Assert.True(await Eventually.True(() => recorder.Decided >= decided + 10, TimeSpan.FromSeconds(30)), "the old version keeps scoring");
        Assert.Empty(recorder.Alarms);

        WriteBundle(path, new ScoreCalibration(Threshold: 0, Min: 0, Max: 1e-9, Percentile: 99), DateTimeOffset.UnixEpoch.AddDays(2));
        Assert.True(await Eventually.True(() => node.Metrics.BundleReloads.WithLabels("loaded").Value >= 1, TimeSpan.FromSeconds(10)), "the watcher is still running: " + string.Join("\n", log));
        Assert.True(await Eventually.True(() => recorder.Raised("line-a").Any(), TimeSpan.FromSeconds(30)), "version 2 scores reach the aggregator");
    }

    [Fact]
    public async Task With_a_signing_key_an_unsigned_new_version_is_refused_and_the_signed_version_keeps_scoring()
    {
        var keyFile = Path.Combine(_root, "bundle.key");
        await File.WriteAllTextAsync(keyFile, "k3y-for-the-rollout-tests-0123456789\n");
        var (path, node, recorder, log) = await StartOnVersionOneAsync(keyFile);
        await using var running = node;
        Assert.True(await Eventually.True(() => recorder.Decided >= 5, TimeSpan.FromSeconds(60)), "the signed version 1 loads");

        WriteBundle(path, new ScoreCalibration(Threshold: 0, Min: 0, Max: 1e-9, Percentile: 99), DateTimeOffset.UnixEpoch.AddDays(1));

        Assert.True(await Eventually.True(() => log.Any(l => l.Contains("unsigned model bundle refused", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)), string.Join("\n", log));
        var decided = recorder.Decided;
        Assert.True(await Eventually.True(() => recorder.Decided >= decided + 10, TimeSpan.FromSeconds(30)), "the signed version keeps scoring");
        Assert.Empty(recorder.Alarms);
    }
}
