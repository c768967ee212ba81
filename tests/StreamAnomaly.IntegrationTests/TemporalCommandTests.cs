using System.Text.Json;
using StreamAnomaly.Cli;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.IntegrationTests;

/// <summary>A tiny robot-cell data set at 32 px, 5 fps (cycle about 30 frames), with roi.png everywhere.</summary>
public sealed class TemporalCliFixture : IDisposable
{
    public const int Size = 32;

    public TemporalCliFixture()
    {
        Root = Directory.CreateTempSubdirectory("temporal-cli-").FullName;
        Write("train", "a-background", 401, SceneOptions.Background, 75);
        Write("train", "b-background", 402, SceneOptions.Background, 75, t0: 2.0);
        Write("val", "background", 403, SceneOptions.Background, 30);
        Write("test", "dropped-part", 404, SceneOptions.Background with { Anomaly = new AnomalySpec(AnomalyKind.DroppedPart, 1) }, 60);
    }

    public string Root { get; }

    public string Data(string split) => Path.Combine(Root, "data", split);

    public string PathOf(string name) => Path.Combine(Root, name);

    private void Write(string split, string name, int seed, SceneOptions options, int frames, double t0 = 0)
    {
        var folder = Data(split);
        Directory.CreateDirectory(folder);
        var scene = new RobotCellScene(seed, options);
        using var writer = new ClipWriter(folder, name, fps: 5, ClipStorage.PngFolder);
        writer.WriteRoi(RobotCellScene.RegionOfInterest(Size, Size));
        for (var i = 0; i < frames; i++)
        {
            var frame = scene.Render(t0 + (i / 5.0), Size, Size);
            writer.Append(frame.Frame, new FrameLabel(i, frame.Label, frame.Label == 1 ? "anomaly" : "normal"));
        }

        writer.Complete();
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

[Collection(nameof(ConsoleCollection))]
public sealed class TemporalCommandTests(TemporalCliFixture fixture) : IClassFixture<TemporalCliFixture>
{
    private async Task<string> TrainedBundle()
    {
        var bundle = fixture.PathOf("temporal.sabundle");
        if (!File.Exists(bundle))
        {
            var code = await CliApp.RunAsync([
                "train", "--detector", "temporal", "--data", fixture.Data("train"), "--out", bundle,
                "--window", "4", "--partitions", "4", "--size", "32", "--epochs", "1", "--width", "4", "--batch", "8", "--device", "cpu"]);
            Assert.Equal(0, code);
        }

        return bundle;
    }

    [Fact]
    public async Task Train_temporal_writes_a_bundle_with_three_calibrations_and_the_cycle()
    {
        var bundle = Core.Bundles.ModelBundle.Load(await TrainedBundle());
        var manifest = bundle.Manifest;
        Assert.Equal("temporal", manifest.Detector);
        Assert.Equal(32, manifest.InputWidth);
        Assert.Equal("4", manifest.Parameters["window"]);
        Assert.Equal("4", manifest.Parameters["partitions"]);
        Assert.Equal(["ideal", "none"], manifest.VariantCalibrations!.Keys.Order());
        Assert.InRange(double.Parse(manifest.Parameters["period"], System.Globalization.CultureInfo.InvariantCulture), 27, 33);
        Assert.Equal("30", manifest.Training["validationFrames"]);
        Assert.Equal("a-background", manifest.Training["referenceClip"]);
        Assert.True(manifest.Calibration.Threshold > 0);
    }

    [Fact]
    public async Task Eval_of_a_temporal_bundle_scores_whole_clips_three_ways()
    {
        var report = fixture.PathOf("temporal-report");
        var code = await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report]);
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(Path.Combine(report, "scores.csv"));
        Assert.Equal(61, lines.Length);
        foreach (var (folder, name) in new[] { (report, "temporal/learned"), (Path.Combine(report, "masking-none"), "temporal/none"), (Path.Combine(report, "masking-ideal"), "temporal/ideal") })
        {
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
            Assert.Equal(name, metrics.RootElement.GetProperty("detector").GetString());
            Assert.Equal(60, metrics.RootElement.GetProperty("frames").GetInt32());
        }

        using (var iou = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "mask-iou.json"))))
        {
            Assert.Equal(60, iou.RootElement.GetProperty("frames").GetInt32());
            Assert.InRange(iou.RootElement.GetProperty("learnedVsRegionOfInterest").GetDouble(), 0, 1);
        }

        var single = fixture.PathOf("temporal-report-none");
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", single, "--masking", "none"]));
        Assert.Equal(
            File.ReadAllLines(Path.Combine(report, "masking-none", "scores.csv")),
            File.ReadAllLines(Path.Combine(single, "scores.csv")));
        Assert.False(Directory.Exists(Path.Combine(single, "masking-ideal")));
        Assert.False(File.Exists(Path.Combine(single, "mask-iou.json")), "no learned masking, no mask IoU");
    }

    [Fact]
    public async Task Eval_rejects_an_unknown_masking()
    {
        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", fixture.PathOf("r-bad"), "--masking", "psychic"]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("error: --masking psychic: must be none, learned, ideal or all", error.Trim());
    }

    [Fact]
    public async Task Labels_writes_a_csv_and_a_plot_per_clip()
    {
        var output = fixture.PathOf("labels");
        var code = await CliApp.RunAsync(["labels", "--data", fixture.Data("train"), "--out", output, "--partitions", "4", "--transition", "2"]);
        Assert.Equal(0, code);
        foreach (var clip in new[] { "a-background", "b-background" })
        {
            var lines = File.ReadAllLines(Path.Combine(output, clip + ".labels.csv"));
            Assert.Equal("frame,d,aligned_index,class,y0,y1,y2,y3", lines[0]);
            Assert.Equal(76, lines.Length);
            Assert.StartsWith("0,", lines[1]);
            Assert.True(new FileInfo(Path.Combine(output, clip + ".png")).Length > 1000);
            var classes = lines.Skip(1).Select(l => l.Split(',')[3]).Distinct().Count();
            Assert.Equal(4, classes);
        }
    }
}
