using System.Text.Json;
using StreamAnomaly.Cli;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class EvalMasksCommandTests : IDisposable
{
    private const int Size = IntegratedBundles.Size;

    private readonly string root = Directory.CreateTempSubdirectory("eval-masks-tests-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>The magenta square of <see cref="CliFixture.Scene"/>.</summary>
    internal static BinaryMask SquareMask() =>
        new(Size, Size, Enumerable.Range(0, Size * Size).Select(p => p % Size is >= 12 and < 24 && p / Size is >= 8 and < 20).ToArray());

    /// <summary>A clip in SPLIT: even frames background, odd frames the square (normal-object) with its mask unless <paramref name="withMasks"/> is false.</summary>
    private string WriteSplit(string split, int seed, bool withMasks = true)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "suite", split)).FullName;
        using var writer = new ClipWriter(folder, "cam", fps: 5, ClipStorage.PngFolder);
        for (var f = 0; f < 8; f++)
        {
            var square = f % 2 == 1;
            var masks = withMasks ? new Dictionary<string, BinaryMask> { ["normal-object"] = square ? SquareMask() : BinaryMask.Empty(Size, Size) } : null;
            writer.Append(CliFixture.Scene(Size, seed + f, square), new FrameLabel(f, 0, square ? "normal-object" : "background"), masks);
        }

        writer.Complete();
        return folder;
    }

    /// <summary>An untrained autoencoder bundle: a detector these commands refuse.</summary>
    private string AutoencoderBundle() => AutoencoderBundles.Untrained(Path.Combine(root, "ae.sabundle"));

    [Fact]
    public async Task Eval_masks_writes_table3_with_ground_truth_first_and_the_three_pseudo_label_variants()
    {
        var train = WriteSplit("train", 300);
        WriteSplit("val", 500);
        var bundle = IntegratedBundles.Trained(Path.Combine(root, "int.sabundle"));
        var output = Path.Combine(root, "report");

        var code = await CliApp.RunAsync(["research", "eval-masks", "--bundle", bundle, "--data", train, "--out", output, "--epochs", "2", "--batch", "4"]);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "table3.json")));
        var rows = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(
            ["ground truth", "pseudo-labels: no noise removal", "pseudo-labels: noise removal before blobs", "pseudo-labels: noise removal after blobs"],
            rows.Select(r => r.GetProperty("labels").GetString()));
        Assert.Equal(4, rows[0].GetProperty("labelledFrames").GetInt32());
        Assert.Equal(4, rows[0].GetProperty("instances").GetInt32());
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("labellingFramesPerSecond").ValueKind);
        Assert.Equal([1.0, 1.0, 1.0], new[] { "labelPrecision", "labelRecall", "labelMatchedIoU" }.Select(p => rows[0].GetProperty(p).GetDouble()));
        Assert.All(rows.Skip(1), r => Assert.True(r.GetProperty("labellingFramesPerSecond").GetDouble() > 0));
        Assert.All(rows, r => Assert.InRange(r.GetProperty("ap50").ValueKind == JsonValueKind.Null ? 0 : r.GetProperty("ap50").GetDouble(), 0, 1));
        var csv = File.ReadAllLines(Path.Combine(output, "table3.csv"));
        Assert.Equal("labels,ap50,ap55,ap60,relative_ap50,labelled_frames,instances,label_precision,label_recall,label_matched_iou,labelling_fps,device,ap50_per_seed", csv[0]);
        Assert.Equal(5, csv.Length);
    }

    [Fact]
    public async Task Eval_masks_with_several_seeds_reports_each_rows_mean_and_every_seeds_ap()
    {
        var train = WriteSplit("train", 300);
        WriteSplit("val", 500);
        var bundle = IntegratedBundles.Trained(Path.Combine(root, "int.sabundle"));
        var output = Path.Combine(root, "report");

        var code = await CliApp.RunAsync(["research", "eval-masks", "--bundle", bundle, "--data", train, "--out", output, "--epochs", "1", "--batch", "4", "--seeds", "2"]);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "table3.json")));
        Assert.All(json.RootElement.EnumerateArray(), row =>
        {
            var perSeed = row.GetProperty("ap50PerSeed").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();
            Assert.Equal(2, perSeed.Length);
            var mean = row.GetProperty("ap50").ValueKind == JsonValueKind.Null ? double.NaN : row.GetProperty("ap50").GetDouble();
            Assert.Equal(perSeed.Average(), mean, 9);
        });
    }

    [Fact]
    public async Task Eval_masks_refuses_a_bundle_of_another_detector()
    {
        var train = WriteSplit("train", 300);
        var bundle = AutoencoderBundle();

        var (code, error) = await ConsoleCapture.Run(["research", "eval-masks", "--bundle", bundle, "--data", train, "--eval-data", train, "--out", Path.Combine(root, "x")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("eval-masks needs an integrated-CNN bundle, this one is 'autoencoder'", error);
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
    }

    [Fact]
    public async Task Eval_masks_names_the_clip_that_has_no_ground_truth_masks()
    {
        var train = WriteSplit("train", 300, withMasks: false);
        var bundle = IntegratedBundles.Untrained(Path.Combine(root, "untrained.sabundle"));

        var (code, error) = await ConsoleCapture.Run(["research", "eval-masks", "--bundle", bundle, "--data", train, "--eval-data", train, "--out", Path.Combine(root, "x")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("cam", error);
        Assert.Contains("no normal-object masks", error);
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
    }

    [Fact]
    public async Task Eval_masks_without_a_validation_folder_asks_for_eval_data()
    {
        var train = WriteSplit("train", 300);
        var bundle = IntegratedBundles.Untrained(Path.Combine(root, "untrained.sabundle"));

        var (code, error) = await ConsoleCapture.Run(["research", "eval-masks", "--bundle", bundle, "--data", train, "--out", Path.Combine(root, "x")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("give --eval-data", error);
    }

    [Fact]
    public async Task True_masks_adds_a_column_at_the_autoencoder_columns_threshold()
    {
        var test = WriteSplit("test", 700);
        var bundle = Path.Combine(root, "int.sabundle");
        using (var detector = new IntegratedDetector(new IntegratedNetwork(IntegratedBundles.Tiny), CPU))
        {
            var calibrations = detector.Variants.ToDictionary(v => v, v => new ScoreCalibration(v == "autoencoder" ? 7 : 5, 0, 9, 99));
            DetectorCatalog.CreateBundle(detector, calibrations, new Dictionary<string, string>(), DateTimeOffset.UnixEpoch).Save(bundle);
        }

        var output = Path.Combine(root, "report");
        Assert.Equal(0, await CliApp.RunAsync(["research", "true-masks", "--bundle", bundle, "--data", test, "--out", output]));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var columns = json.RootElement.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("detector").GetString()!);
        Assert.Equal("integrated, true masks", columns.Keys.Last());
        Assert.Equal(7, columns["integrated, true masks"].GetProperty("rawThreshold").GetDouble());
        Assert.Equal(8, columns["integrated, true masks"].GetProperty("frames").GetInt32());
    }

    [Fact]
    public async Task True_masks_names_the_clip_that_has_no_normal_object_masks()
    {
        var test = WriteSplit("test", 700, withMasks: false);
        var bundle = IntegratedBundles.Untrained(Path.Combine(root, "untrained.sabundle"));

        var (code, error) = await ConsoleCapture.Run(["research", "true-masks", "--bundle", bundle, "--data", test, "--out", Path.Combine(root, "x")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("cam", error);
        Assert.Contains("true masks need every clip's normal-object masks", error);
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
    }

    [Fact]
    public async Task True_masks_refuses_a_bundle_of_another_detector()
    {
        var test = WriteSplit("test", 700);
        var bundle = AutoencoderBundle();

        var (code, error) = await ConsoleCapture.Run(["research", "true-masks", "--bundle", bundle, "--data", test, "--out", Path.Combine(root, "x")]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("true masks replace the integrated CNN's segmentation head; this bundle is 'autoencoder'", error);
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
    }
}
