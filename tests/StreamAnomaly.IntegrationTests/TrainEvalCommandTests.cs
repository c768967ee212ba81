using System.Text.Json;
using StreamAnomaly.Cli;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class TrainEvalCommandTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private static readonly TimeProvider Clock = new FixedClock(new DateTimeOffset(2026, 11, 22, 9, 30, 0, TimeSpan.Zero));

    private async Task<string> TrainedBundle()
    {
        var bundle = fixture.PathOf("model.sabundle");
        if (!File.Exists(bundle))
        {
            var code = await CliApp.RunAsync(["train", "--data", fixture.Data("train"), "--out", bundle, "--set", "epochs=25", "--set", "size=32", "--set", "batch=8", "--set", "width=8", "--set", "code=32", "--set", "learningRate=0.003"], Clock);
            Assert.Equal(0, code);
        }

        return bundle;
    }

    [Fact]
    public async Task Train_writes_a_calibrated_bundle_using_the_sibling_val_folder()
    {
        var bundle = Core.Bundles.ModelBundle.Load(await TrainedBundle());
        Assert.Equal("autoencoder", bundle.Manifest.Detector);
        Assert.Equal(32, bundle.Manifest.Options["size"]!.GetValue<int>());
        Assert.Equal("16", bundle.Manifest.Training["validationFrames"]);
        Assert.Equal("48", bundle.Manifest.Training["trainFrames"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 9, 30, 0, TimeSpan.Zero), bundle.Manifest.CreatedAt);
        Assert.True(bundle.Manifest.Calibrations["autoencoder"].Threshold > 0);
    }

    [Fact]
    public async Task Training_warns_when_too_few_validation_frames_lie_above_the_percentile()
    {
        var (code, error) = await ConsoleCapture.Run(["train", "--data", fixture.Data("train"), "--out", fixture.PathOf("few.sabundle"), "--set", "epochs=1", "--set", "size=32", "--set", "width=8", "--set", "code=32"]);
        Assert.Equal(0, code);
        Assert.Contains("warning: calibrating the 99th percentile on 16 normal frames", error);
        Assert.Contains("at least 500 normal frames", error);
        Assert.True(File.Exists(fixture.PathOf("few.sabundle")));
    }

    [Fact]
    public async Task Training_does_not_warn_when_enough_validation_frames_lie_above_the_percentile()
    {
        var (code, error) = await ConsoleCapture.Run(["train", "--data", fixture.Data("train"), "--out", fixture.PathOf("median.sabundle"), "--set", "epochs=1", "--set", "size=32", "--set", "width=8", "--set", "code=32", "--percentile", "50"]);
        Assert.Equal(0, code);
        Assert.DoesNotContain("warning", error);
    }

    [Fact]
    public async Task Eval_writes_scores_metrics_and_plots_and_separates_the_anomalies()
    {
        var report = fixture.PathOf("report");
        var code = await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report], Clock);
        Assert.Equal(0, code);

        var lines = File.ReadAllLines(Path.Combine(report, "scores.csv"));
        Assert.Equal("clip,frame,score,raw_score,label,category", lines[0]);
        Assert.Equal(33, lines.Length);
        Assert.StartsWith("clip0,0,", lines[1]);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        var root = metrics.RootElement;
        Assert.True(root.GetProperty("auroc").GetDouble() > 0.95, $"AUROC {root.GetProperty("auroc").GetDouble()}");
        Assert.Equal(16, root.GetProperty("tp").GetInt32() + root.GetProperty("fn").GetInt32());
        Assert.Equal(2, root.GetProperty("categories").GetArrayLength());
        Assert.True(new FileInfo(Path.Combine(report, "roc.png")).Length > 1000);
        Assert.True(File.Exists(Path.Combine(report, "timelines", "clip1.png")));
    }

    [Fact]
    public async Task The_raw_scores_in_scores_csv_reproduce_the_reported_auroc()
    {
        var report = fixture.PathOf("report-raw");
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report], Clock));

        var rows = File.ReadAllLines(Path.Combine(report, "scores.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        var raw = rows.Select(r => double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var labels = rows.Select(r => int.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("auroc").GetDouble(), Core.Evaluation.BinaryMetrics.Auroc(raw, labels), 12);
    }

    [Fact]
    public async Task Eval_reports_the_auroc_of_each_anomaly_category_against_every_normal_frame()
    {
        var report = fixture.PathOf("report-categories");
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report], Clock));

        var rows = File.ReadAllLines(Path.Combine(report, "scores.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        var category = Assert.Single(metrics.RootElement.GetProperty("categoryAurocs").EnumerateArray());
        var name = category.GetProperty("category").GetString();
        var ranked = rows.Where(r => r[4] == "0" || r[5] == name).ToArray();
        Assert.Equal(rows.Count(r => r[4] == "1"), category.GetProperty("anomalousFrames").GetInt32());
        Assert.Equal(
            Core.Evaluation.BinaryMetrics.Auroc(
                ranked.Select(r => double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
                ranked.Select(r => int.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture)).ToArray()),
            category.GetProperty("auroc").GetDouble(),
            12);
    }

    [Fact]
    public async Task Eval_reports_pixel_auroc_pro_and_each_categorys_pixel_auroc_from_the_anomaly_masks()
    {
        var report = fixture.PathOf("report-pixels");
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report], Clock));

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        var pixelAuroc = metrics.RootElement.GetProperty("pixelAuroc").GetDouble();
        Assert.InRange(pixelAuroc, 0.5, 1.0); // the square is the brightest residual
        Assert.InRange(metrics.RootElement.GetProperty("pro").GetDouble(), 0.0, 1.0);
        var category = Assert.Single(metrics.RootElement.GetProperty("categoryPixelAurocs").EnumerateObject());
        Assert.Equal("square", category.Name);
        Assert.Equal(pixelAuroc, category.Value.GetDouble(), 12); // the only category: its pixels and every normal frame's are all the pixels
    }

    [Fact]
    public async Task Training_an_unknown_detector_fails_with_one_line_and_no_bundle()
    {
        var (code, error) = await ConsoleCapture.Run(["train", "--detector", "oracle", "--data", fixture.Data("train"), "--out", fixture.PathOf("x.sabundle")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: unknown detector 'oracle' (known: {string.Join(", ", Vision.Detectors.DetectorCatalog.Names)})", error.Trim());
        Assert.False(File.Exists(fixture.PathOf("x.sabundle")));
    }

    [Fact]
    public async Task An_option_the_detector_does_not_have_is_refused_naming_it_and_the_known_ones()
    {
        var (code, error) = await ConsoleCapture.Run(["train", "--data", fixture.Data("train"), "--set", "scaled=true", "--out", fixture.PathOf("s.sabundle")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("error: unknown option 'scaled' (options: size, width, code, peak, epochs, batch, learningRate, colourJitter)", error.Trim());
        Assert.False(File.Exists(fixture.PathOf("s.sabundle")));
    }

    [Theory]
    [InlineData("infill=-1", "error: option 'infill': must lie in 0 .. 16")]
    [InlineData("decoys=1.5", "error: option 'decoys': must lie in 0 .. 1")]
    [InlineData("solidDecoys=-0.1", "error: option 'solidDecoys': must lie in 0 .. 1")]
    [InlineData("peak=200", "error: option 'peak': window 200 must fit the input (128 px)")]
    [InlineData("size=100", "error: option 'size': must be a multiple of 32")]
    [InlineData("epochs=many", "error: option 'epochs': 'many' is not an integer")]
    [InlineData("backbone=vgg", "error: option 'backbone': 'vgg' is not one of resnet18, resnet34, resnet50, pretrained")]
    [InlineData("freezeBackbone=true", "error: option 'freezeBackbone': only the pretrained backbone can be frozen (a network trained from scratch needs its backbone trained)")]
    public async Task Out_of_range_options_are_refused_before_training(string setting, string message)
    {
        var (code, error) = await ConsoleCapture.Run(["train", "--detector", "integrated", "--data", fixture.Data("train"), "--set", setting, "--out", fixture.PathOf("r.sabundle")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal(message, error.Trim());
        Assert.False(File.Exists(fixture.PathOf("r.sabundle")));
    }

    [Fact]
    public async Task Options_come_from_a_json_file_and_set_wins_over_it()
    {
        var file = fixture.PathOf("options.json");
        File.WriteAllText(file, """{ "size": 32, "width": 8, "code": 32, "epochs": 9 }""");
        var bundlePath = fixture.PathOf("from-file.sabundle");
        var code = await CliApp.RunAsync(["train", "--data", fixture.Data("train"), "--out", bundlePath, "--options", file, "--set", "epochs=1"], Clock);
        Assert.Equal(0, code);
        var options = Core.Bundles.ModelBundle.Load(bundlePath).Manifest.Options;
        Assert.Equal(8, options["width"]!.GetValue<int>());
        Assert.Equal(1, options["epochs"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_options_file_with_an_unknown_option_is_refused_naming_file_and_option()
    {
        var file = fixture.PathOf("bad-options.json");
        File.WriteAllText(file, """{ "size": 32, "depth": 3 }""");
        var (code, error) = await ConsoleCapture.Run(["train", "--data", fixture.Data("train"), "--out", fixture.PathOf("bad.sabundle"), "--options", file]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.StartsWith($"error: {file}: unknown option 'depth'", error.Trim());
    }

    [Fact]
    public async Task The_detectors_command_lists_every_detector_with_its_options()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet", [NodeProcess.CliAssembly, "detectors"]) { RedirectStandardOutput = true, UseShellExecute = false };
        info.Environment["COLUMNS"] = "200";
        using var process = System.Diagnostics.Process.Start(info)!;
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.All(Vision.Detectors.DetectorCatalog.Names, name => Assert.Contains(name + ":", text));
        Assert.Contains("segmentationDecay", text);
        Assert.Contains("camThreshold", text);
    }

    [Fact]
    public async Task Training_on_a_category_no_frame_has_fails_naming_the_category()
    {
        var (code, error) = await ConsoleCapture.Run(["train", "--data", fixture.Data("train"), "--category", "hands", "--out", fixture.PathOf("z.sabundle")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.EndsWith("no normal frames of category hands to train on", error.Trim());
        Assert.False(File.Exists(fixture.PathOf("z.sabundle")));
    }

    [Fact]
    public async Task Training_on_a_missing_folder_names_it()
    {
        var missing = fixture.PathOf("no-such-folder");
        var (code, error) = await ConsoleCapture.Run(["train", "--data", missing, "--out", fixture.PathOf("y.sabundle")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal($"error: {missing}: clip folder not found", error.Trim());
    }

    [Fact]
    public async Task Eval_of_several_bundles_reports_their_fusion_first_then_each_bundle()
    {
        var bundle = await TrainedBundle();
        var report = fixture.PathOf("fused-report");

        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", bundle, "--bundle", bundle, "--data", fixture.Data("test"), "--out", report], Clock));

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        var root = metrics.RootElement;
        var alone = root.GetProperty("variants").EnumerateArray().ToArray();
        Assert.Equal("fused (autoencoder + autoencoder#2)", root.GetProperty("detector").GetString());
        Assert.Equal(["autoencoder", "autoencoder#2"], alone.Select(static v => v.GetProperty("detector").GetString()));
        // The fusion of a detector with itself is that detector: the same ranking, the same decisions.
        Assert.Equal(alone[0].GetProperty("auroc").GetDouble(), root.GetProperty("auroc").GetDouble(), 12);
        Assert.Equal(alone[0].GetProperty("tp").GetInt32(), root.GetProperty("tp").GetInt32());
        Assert.Equal(alone[0].GetProperty("fp").GetInt32(), root.GetProperty("fp").GetInt32());
    }

    [Fact]
    public async Task Eval_compare_scores_each_bundle_alone_and_writes_one_table_and_a_roc_curve_per_detector()
    {
        var autoencoder = await TrainedBundle();
        var forest = fixture.PathOf("iforest.sabundle");
        Assert.Equal(0, await CliApp.RunAsync(["train", "--detector", "iforest", "--data", fixture.Data("train"), "--out", forest, "--set", "size=32", "--set", "trees=20", "--set", "samples=16"], Clock));
        var alone = fixture.PathOf("alone-report");
        var compared = fixture.PathOf("compare-report");
        Assert.Equal(0, await CliApp.RunAsync(["eval", "--bundle", forest, "--data", fixture.Data("test"), "--out", alone], Clock));

        Assert.Equal(0, await CliApp.RunAsync(["eval", "--compare", "--bundle", autoencoder, "--bundle", forest, "--data", fixture.Data("test"), "--out", compared], Clock));

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(compared, "metrics.json")));
        using var single = JsonDocument.Parse(File.ReadAllText(Path.Combine(alone, "metrics.json")));
        var columns = (IEnumerable<JsonElement>)[metrics.RootElement, .. metrics.RootElement.GetProperty("variants").EnumerateArray()];
        Assert.Equal(["autoencoder", "iforest"], columns.Select(static c => c.GetProperty("detector").GetString()));
        Assert.All(columns, static c => Assert.True(c.GetProperty("fitSeconds").GetDouble() > 0));
        // A whole-frame detector's uniform map says nothing of where: no pixel figures for it.
        Assert.Equal(JsonValueKind.Number, columns.First().GetProperty("pixelAuroc").ValueKind);
        Assert.Equal(JsonValueKind.Null, columns.Last().GetProperty("pixelAuroc").ValueKind);
        // Compared, a detector scores exactly as it does alone.
        Assert.Equal(single.RootElement.GetProperty("auroc").GetDouble(), columns.Last().GetProperty("auroc").GetDouble(), 12);

        var table = File.ReadAllLines(Path.Combine(compared, "comparison.md"));
        Assert.Contains("| detector | AUROC | AUPR | FP @ 99 % recall | pixel AUROC | PRO | fit s | frames/s |", table);
        Assert.Single(table, static l => l.StartsWith("| autoencoder | ", StringComparison.Ordinal));
        Assert.Single(table, static l => l.StartsWith("| iforest | ", StringComparison.Ordinal));
        var csv = File.ReadAllLines(Path.Combine(compared, "comparison.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("detector,auroc,aupr,fp_at_recall99,pixel_auroc,pro,fit_seconds,frames_per_second", csv[0]);
        Assert.True(new FileInfo(Path.Combine(compared, "roc.png")).Length > 1000);
    }

    [Fact]
    public async Task Eval_compare_of_a_single_bundle_is_refused_and_leaves_no_report()
    {
        var report = fixture.PathOf("compare-one");
        var (code, error) = await ConsoleCapture.Run(["eval", "--compare", "--bundle", await TrainedBundle(), "--data", fixture.Data("test"), "--out", report]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--compare needs at least two --bundle", error);
        Assert.False(Directory.Exists(report));
    }

    [Fact]
    public async Task Eval_refuses_a_fusion_grid_outside_its_limits()
    {
        var bundle = await TrainedBundle();
        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", bundle, "--bundle", bundle, "--data", fixture.Data("test"), "--out", fixture.PathOf("grid-report"), "--grid", "0"]);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--grid must lie in 1 .. 64, got 0", error);
        Assert.False(Directory.Exists(fixture.PathOf("grid-report")));
    }

    [Fact]
    public async Task Eval_with_a_corrupted_bundle_fails_and_leaves_no_report()
    {
        var bad = fixture.PathOf("bad.sabundle");
        File.WriteAllText(bad, "not a bundle");
        var report = fixture.PathOf("bad-report");
        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", bad, "--data", fixture.Data("test"), "--out", report]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.StartsWith($"error: {bad}: not a readable model bundle", error.Trim());
        Assert.False(Directory.Exists(report));
        Assert.Empty(Directory.GetDirectories(fixture.Root, ".bad-report*"));
    }

    [Fact]
    public async Task Eval_on_clips_without_labels_names_the_clip()
    {
        var folder = fixture.PathOf("unlabelled");
        Directory.CreateDirectory(Path.Combine(folder, "cam"));
        Ingest.Clips.ImageCodec.WriteFrame(Path.Combine(folder, "cam", "000000.png"), CliFixture.Scene(48, 1, false));
        var (code, error) = await ConsoleCapture.Run(["eval", "--bundle", await TrainedBundle(), "--data", folder, "--out", fixture.PathOf("r2")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("cam", error);
        Assert.Contains("labels", error);
    }
}

/// <summary>A clock stopped at <paramref name="now"/>, for bundle timestamps.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>Tests that redirect Console.Error run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

internal static class ConsoleCapture
{
    public static async Task<(int Code, string Error)> Run(string[] args)
    {
        var original = Console.Error;
        using var error = new StringWriter();
        Console.SetError(error);
        try
        {
            var code = await CliApp.RunAsync(args);
            return (code, error.ToString());
        }
        finally
        {
            Console.SetError(original);
        }
    }

    /// <summary>Runs the CLI with standard output captured: its exit code and what it printed there.</summary>
    public static async Task<(int Code, string Output)> RunWithOutput(string[] args)
    {
        var original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var code = await CliApp.RunAsync(args);
            return (code, output.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }
}
