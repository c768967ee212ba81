using System.Text.Json;
using StreamAnomaly.Cli;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class SynthDemoCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("synth-demo-tests-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task Quickstart_renders_trains_and_evaluates_end_to_end()
    {
        var output = Path.Combine(root, "demo");
        var code = await CliApp.RunAsync(["quickstart", "--out", output, "--size", "32", "--epochs", "1"]);
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(output, "data", "contact-sheet.png")));
        Assert.True(File.Exists(Path.Combine(output, "autoencoder.sabundle")));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report", "metrics.json")));
        var categories = metrics.RootElement.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("category").GetString()).ToArray();
        Assert.Contains("normal-object", categories);
        Assert.Contains("dropped-part", categories);
        Assert.InRange(metrics.RootElement.GetProperty("auroc").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task Synth_refuses_a_non_empty_output_folder_and_leaves_it_untouched()
    {
        var output = Path.Combine(root, "taken");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");
        var (code, error) = await ConsoleCapture.Run(["synth", "--out", output, "--size", "32"]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("exists and is not empty", error);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Synth_rejects_an_unknown_suite()
    {
        var (code, error) = await ConsoleCapture.Run(["synth", "--suite", "kitchen-v9", "--out", Path.Combine(root, "k")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("error: unknown suite 'kitchen-v9' (known: robotcell-v1, robotcell-v2)", error.Trim());
    }
}
