using System.Text.Json;
using StreamAnomaly.Cli;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class PseudolabelCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("pseudolabel-tests-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A clip of 6 frames: even frames plain background, odd frames with the magenta square (category normal-object), with its mask if asked.</summary>
    private string WriteClip(bool withMasks = false)
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        using var writer = new ClipWriter(data, "cam", fps: 5, ClipStorage.PngFolder);
        for (var f = 0; f < 6; f++)
        {
            var square = f % 2 == 1;
            var masks = withMasks ? new Dictionary<string, BinaryMask> { ["normal-object"] = square ? EvalMasksCommandTests.SquareMask() : BinaryMask.Empty(64, 64) } : null;
            writer.Append(CliFixture.Scene(64, 900 + f, square), new FrameLabel(f, 0, square ? "normal-object" : "background"), masks);
        }

        writer.Complete();
        return data;
    }

    [Fact]
    public async Task Pseudolabel_writes_one_label_png_per_normal_object_frame_and_a_contact_sheet()
    {
        var data = WriteClip();
        var bundle = IntegratedBundles.Trained(Path.Combine(root, "int.sabundle"));

        var output = Path.Combine(root, "labels");
        var code = await CliApp.RunAsync(["research", "pseudolabel", "--bundle", bundle, "--data", data, "--out", output]);

        Assert.Equal(0, code);
        Assert.Equal(["000001.png", "000003.png", "000005.png"], Directory.GetFiles(Path.Combine(output, "labels", "cam")).Select(Path.GetFileName).Order());
        Assert.True(File.Exists(Path.Combine(output, "contact-sheet.png")), "no frame got an instance, so no contact sheet");
        Assert.False(File.Exists(Path.Combine(output, "agreement.json")), "the clip has no ground-truth masks to agree with");
    }

    [Fact]
    public async Task Pseudolabel_counts_the_labels_that_match_the_ground_truth_masks()
    {
        var data = WriteClip(withMasks: true);
        var bundle = IntegratedBundles.Trained(Path.Combine(root, "int.sabundle"));
        var output = Path.Combine(root, "labels");

        var code = await CliApp.RunAsync(["research", "pseudolabel", "--bundle", bundle, "--data", data, "--out", output]);

        Assert.Equal(0, code);
        var square = EvalMasksCommandTests.SquareMask();
        var instances = Directory.GetFiles(Path.Combine(output, "labels", "cam"))
            .SelectMany(png => PseudoLabeler.ReadLabelPng(png).Instances)
            .ToArray();
        var right = instances.Count(i => MaskMetrics.IoU(i.Mask, square) >= 0.5);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "agreement.json")));
        var agreement = json.RootElement;
        Assert.Equal(3, agreement.GetProperty("frames").GetInt32());
        Assert.Equal(right, agreement.GetProperty("truePositives").GetInt32());
        Assert.Equal(instances.Length - right, agreement.GetProperty("falsePositives").GetInt32());
        Assert.Equal(3 - right, agreement.GetProperty("falseNegatives").GetInt32());
    }

    [Fact]
    public async Task Pseudolabel_refuses_a_bundle_of_another_detector()
    {
        var data = WriteClip();
        var bundle = Path.Combine(root, "ae.sabundle");
        AutoencoderBundles.Untrained(bundle);

        var (code, error) = await ConsoleCapture.Run(["research", "pseudolabel", "--bundle", bundle, "--data", data, "--out", Path.Combine(root, "x")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("pseudo-labels come from an integrated-CNN bundle, this one is 'autoencoder'", error);
        Assert.False(Directory.Exists(Path.Combine(root, "x")));
    }
}
