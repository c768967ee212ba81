using StreamAnomaly.Cli;
using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.IntegrationTests;

/// <summary><c>train --detector integrated</c> end to end, on a tiny suite: background frames and frames with a magenta square (the normal object).</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class IntegratedTrainCommandTests : IDisposable
{
    private static readonly TimeProvider Clock = new FixedClock(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private readonly string root = Directory.CreateTempSubdirectory("integrated-train-").FullName;

    public IntegratedTrainCommandTests()
    {
        Write("train", "background", 24, seed: 0, square: false);
        Write("train", "normal-object", 8, seed: 100, square: true);
        Write("val", "background", 16, seed: 200, square: false);
    }

    private void Write(string split, string category, int frames, int seed, bool square)
    {
        using var writer = new ClipWriter(Path.Combine(root, split), category, fps: 5, ClipStorage.PngFolder);
        for (var f = 0; f < frames; f++)
        {
            writer.Append(CliFixture.Scene(IntegratedBundles.Size, seed + f, square), new FrameLabel(f, 0, category));
        }

        writer.Complete();
    }

    [Fact]
    public async Task Training_writes_an_integrated_bundle_that_records_its_stage_two_schedule()
    {
        var output = Path.Combine(root, "int.sabundle");

        var code = await CliApp.RunAsync(
            ["train", "--detector", "integrated", "--data", Path.Combine(root, "train"), "--out", output, "--set", "size=64", "--set", "widthDivisor=8",
             "--set", "code=32", "--set", "epochs=2", "--set", "segmentationEpochs=2", "--set", "refitEpochs=1", "--set", "segmentationDecay=0.1", "--category", "background"],
            Clock);

        Assert.Equal(0, code);
        var manifest = ModelBundle.Load(output).Manifest;
        Assert.Equal("integrated", manifest.Detector);
        Assert.Equal(0.1, manifest.Options["segmentationDecay"]!.GetValue<double>());
        Assert.Equal(2, manifest.Options["segmentationEpochs"]!.GetValue<int>());
        Assert.Equal("16", manifest.Training["validationFrames"]);
        Assert.True(int.Parse(manifest.Training["pseudoLabelledFrames"], System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 8);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
