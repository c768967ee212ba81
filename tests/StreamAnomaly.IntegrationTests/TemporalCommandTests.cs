using System.Globalization;
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
                "train", "--detector", "temporal", "--data", fixture.Data("train"), "--out", bundle, "--device", "cpu",
                "--set", "window=4", "--set", "partitions=4", "--set", "size=32", "--set", "epochs=1", "--set", "maskEpochs=1",
                "--set", "autoencoderWidth=4", "--set", "autoencoderHidden=8", "--set", "batch=8"]);
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
        Assert.Equal(32, manifest.Options["size"]!.GetValue<int>());
        Assert.Equal(4, manifest.Options["window"]!.GetValue<int>());
        Assert.Equal(["learned", "none", "ideal"], manifest.Calibrations.Keys);
        Assert.InRange(manifest.State!["period"]!.GetValue<double>(), 27, 33);
        Assert.Equal("30", manifest.Training["validationFrames"]);
        Assert.Equal("a-background", manifest.Training["referenceClip"]);
        Assert.True(manifest.Calibrations["learned"].Threshold > 0);
    }

    [Fact]
    public async Task Eval_of_a_temporal_bundle_scores_whole_clips_three_ways()
    {
        var report = fixture.PathOf("temporal-report");
        var code = await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report]);
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(Path.Combine(report, "scores.csv"));
        Assert.Equal(61, lines.Length);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        Assert.Equal("temporal", metrics.RootElement.GetProperty("detector").GetString());
        Assert.Equal(60, metrics.RootElement.GetProperty("frames").GetInt32());
        var variants = metrics.RootElement.GetProperty("variants").EnumerateArray().ToArray();
        Assert.Equal(["temporal/none", "temporal/ideal"], variants.Select(v => v.GetProperty("detector").GetString()));
        Assert.All(variants, v => Assert.Equal(60, v.GetProperty("frames").GetInt32()));
    }

    [Fact]
    public async Task Eval_leaves_out_the_ideal_mask_when_a_clip_has_no_region_of_interest()
    {
        var test = Path.Combine(fixture.PathOf("no-roi"), "test");
        Copy(fixture.Data("test"), test);
        foreach (var roi in Directory.GetFiles(test, "roi.png", SearchOption.AllDirectories))
        {
            File.Delete(roi);
        }

        var report = fixture.PathOf("no-roi-report");
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", test, "--out", report]));

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        Assert.Equal(["temporal/none"], metrics.RootElement.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("detector").GetString()));
    }

    [Fact]
    public async Task Ablation_writes_nine_settings_each_varying_one_of_the_bundles_settings()
    {
        var report = fixture.PathOf("ablation-report");
        var code = await CliApp.RunAsync(["research", "ablation", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report]);
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(Path.Combine(report, "ablation.csv"));
        Assert.Equal("group,value,layers,threshold,window,raw_threshold,tp,fn,fp,tn,fp_at_recall99,auroc,aupr,mask_iou", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(9, rows.Length);

        // the bundle's own Eigen-CAM settings are the defaults: last 2 layers, threshold 0.1, window 5
        Assert.Equal(
            [
                "layers,1,1,0.1,5", "layers,2,2,0.1,5", "layers,4,4,0.1,5",
                "threshold,0,2,0,5", "threshold,0.1,2,0.1,5", "threshold,0.2,2,0.2,5",
                "window,3,2,0.1,3", "window,7,2,0.1,7", "window,11,2,0.1,11",
            ],
            rows.Select(r => string.Join(',', r[..5])));
        Assert.All(rows, r =>
        {
            Assert.Equal(60, r[6..10].Sum(v => int.Parse(v, CultureInfo.InvariantCulture)));
            Assert.InRange(int.Parse(r[10], CultureInfo.InvariantCulture), 0, int.Parse(r[8], CultureInfo.InvariantCulture) + int.Parse(r[9], CultureInfo.InvariantCulture));
            Assert.InRange(double.Parse(r[11], CultureInfo.InvariantCulture), 0, 1);
            Assert.InRange(double.Parse(r[13], CultureInfo.InvariantCulture), 0, 1);
            Assert.True(double.Parse(r[5], CultureInfo.InvariantCulture) > 0);
        });
        Assert.Empty(Directory.GetDirectories(fixture.Root, ".ablation-report*"));
    }

    [Fact]
    public async Task Ablation_row_with_the_bundles_own_settings_reproduces_its_calibration_and_eval()
    {
        var bundle = await TrainedBundle();
        var ablation = fixture.PathOf("ablation-own");
        var learned = fixture.PathOf("ablation-own-learned");
        Assert.Equal(0, await CliApp.RunAsync(["research", "ablation", "--bundle", bundle, "--data", fixture.Data("test"), "--out", ablation, "--val", fixture.Data("val")]));
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", bundle, "--data", fixture.Data("test"), "--out", learned]));

        // layers = 2 keeps the bundle's threshold 0.1 and window 5; the bundle was calibrated on the same val folder
        var own = File.ReadAllLines(Path.Combine(ablation, "ablation.csv")).Skip(1).Select(l => l.Split(',')).Single(r => r[0] == "layers" && r[1] == "2");
        var calibration = Core.Bundles.ModelBundle.Load(bundle).Manifest.Calibrations["learned"];
        Assert.Equal(calibration.Threshold, double.Parse(own[5], CultureInfo.InvariantCulture), 1e-6 * calibration.Threshold);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(learned, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal(
            (root.GetProperty("tp").GetInt32(), root.GetProperty("fn").GetInt32(), root.GetProperty("fp").GetInt32(), root.GetProperty("fpAtRecall99").GetInt32(), root.GetProperty("auroc").GetDouble().ToString("F6", CultureInfo.InvariantCulture)),
            (int.Parse(own[6], CultureInfo.InvariantCulture), int.Parse(own[7], CultureInfo.InvariantCulture), int.Parse(own[8], CultureInfo.InvariantCulture), int.Parse(own[10], CultureInfo.InvariantCulture), own[11]));
    }

    [Fact]
    public async Task Ablation_of_a_non_temporal_bundle_is_refused()
    {
        var autoencoder = AutoencoderBundles.Untrained(fixture.PathOf("autoencoder.sabundle"));
        var report = fixture.PathOf("ablation-autoencoder");
        var (code, error) = await ConsoleCapture.Run(["research", "ablation", "--bundle", autoencoder, "--data", fixture.Data("test"), "--out", report]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {autoencoder}: the ablation varies the temporal detector's learned mask; this bundle is 'autoencoder'", error.Trim());
        Assert.False(Directory.Exists(report));
    }

    [Fact]
    public async Task Ablation_without_validation_clips_asks_for_val()
    {
        var test = Path.Combine(fixture.PathOf("no-val"), "test");
        Copy(fixture.Data("test"), test);
        var report = fixture.PathOf("ablation-no-val");
        var (code, error) = await ConsoleCapture.Run(["research", "ablation", "--bundle", await TrainedBundle(), "--data", test, "--out", report]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {test}: no val/ folder beside it; give --val, a folder of normal clips", error.Trim());
        Assert.False(Directory.Exists(report));
    }

    [Fact]
    public async Task Labels_writes_a_csv_and_a_plot_per_clip()
    {
        var output = fixture.PathOf("labels");
        var code = await CliApp.RunAsync(["research", "labels", "--data", fixture.Data("train"), "--out", output, "--partitions", "4", "--transition", "2"]);
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

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.EnumerateDirectories(from))
        {
            Copy(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }
}
