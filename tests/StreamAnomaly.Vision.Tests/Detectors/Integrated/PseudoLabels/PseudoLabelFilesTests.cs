using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated.PseudoLabels;

public sealed class PseudoLabelFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pseudo-label-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static SegmentationTargets TwoSquares(int width, int height)
    {
        var residual = new ResidualMaps(width, height).Rect(2, 3, 8, 8).Rect(14, 10, 9, 6).Map();
        return PseudoLabeler.Label(residual, new PseudoLabelOptions(0.5));
    }

    private static Frame Grey(int width, int height, byte value) => new(width, height, Enumerable.Repeat(value, width * height * 3).ToArray());

    [Fact]
    public void Label_png_holds_instance_indices_and_reads_back_to_the_same_targets()
    {
        var labels = TwoSquares(32, 24);
        var path = Path.Combine(_dir, "labels", "frame0001.png");

        PseudoLabeler.WriteLabelPng(path, labels, 32, 24);

        using var image = Cv2.ImRead(path, ImreadModes.Unchanged);
        Assert.Equal(MatType.CV_8UC1, image.Type());
        Assert.Equal((32, 24), (image.Width, image.Height));
        Assert.Equal(0, image.At<byte>(0, 0));
        Assert.Equal(1, image.At<byte>(5, 5));
        Assert.Equal(2, image.At<byte>(12, 18));
        var read = PseudoLabeler.ReadLabelPng(path);
        Assert.Equal(labels.Instances.Count, read.Instances.Count);
        for (var k = 0; k < labels.Instances.Count; k++)
        {
            Assert.Equal(labels.Instances[k].Mask.Data, read.Instances[k].Mask.Data);
            Assert.Equal(labels.Instances[k].Box, read.Instances[k].Box);
        }
    }

    [Fact]
    public void Label_image_of_no_instances_is_all_background_and_mismatched_masks_are_rejected()
    {
        Assert.All(PseudoLabeler.ToLabelImage(SegmentationTargets.None, 5, 4), static v => Assert.Equal(0, v));
        Assert.Throws<ArgumentException>(() => PseudoLabeler.ToLabelImage(TwoSquares(32, 24), 64, 48));
    }

    [Fact]
    public void Sheet_is_written_at_label_resolution_with_coloured_overlays()
    {
        // Frames at twice the label resolution are resized down to the 32x24 tiles; 5 items in 2 columns = 3 rows.
        var items = new List<(Frame, SegmentationTargets)>
        {
            (Grey(64, 48, 100), TwoSquares(32, 24)),
            (Grey(64, 48, 100), SegmentationTargets.None),
            (Grey(64, 48, 100), TwoSquares(32, 24)),
            (Grey(64, 48, 100), SegmentationTargets.None),
            (Grey(64, 48, 100), TwoSquares(32, 24)),
        };
        var path = Path.Combine(_dir, "sheet.png");

        PseudoLabelSheet.Write(path, items, columns: 2);

        using var sheet = Cv2.ImRead(path, ImreadModes.Color);
        Assert.Equal((64, 72), (sheet.Width, sheet.Height));
        Assert.Equal(new Vec3b(100, 100, 100), sheet.At<Vec3b>(20, 5)); // background of tile 0
        Assert.NotEqual(new Vec3b(100, 100, 100), sheet.At<Vec3b>(6, 6)); // inside instance 1 of tile 0
        Assert.NotEqual(sheet.At<Vec3b>(6, 6), sheet.At<Vec3b>(13, 18)); // instance 2 has another colour
        Assert.Equal(new Vec3b(100, 100, 100), sheet.At<Vec3b>(6, 32 + 6)); // tile 1 has no instances
        Assert.Equal(new Vec3b(0, 0, 0), sheet.At<Vec3b>(60, 40)); // unused last cell is black
    }

    [Fact]
    public void Sheet_without_instances_uses_the_frame_size_and_one_row_for_few_items()
    {
        var path = Path.Combine(_dir, "empty.png");

        PseudoLabelSheet.Write(path, [(Grey(20, 10, 50), SegmentationTargets.None), (Grey(20, 10, 60), SegmentationTargets.None)]);

        using var sheet = Cv2.ImRead(path, ImreadModes.Color);
        Assert.Equal((40, 10), (sheet.Width, sheet.Height));
        Assert.Throws<ArgumentException>(() => PseudoLabelSheet.Write(path, []));
    }
}
