using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Tests.Clips;

public sealed class ClipWriterTests : IDisposable
{
    private const int Width = 80;
    private const int Height = 64;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void MjpgAvi_round_trip_keeps_count_and_size_with_small_pixel_error()
    {
        var frames = Enumerable.Range(0, 6).Select(i => TestImages.Smooth(Width, Height, i)).ToArray();
        WriteClip("a", ClipStorage.MjpgAvi, frames);

        var clip = Clip.Open(_temp.Combine("a.avi"));
        var read = clip.ReadFrames().ToArray();

        Assert.Equal(frames.Length, read.Length);
        Assert.Equal(frames.Length, clip.CountFrames());
        for (var i = 0; i < frames.Length; i++)
        {
            Assert.Equal((Width, Height), (read[i].Width, read[i].Height));
            Assert.True(TestImages.MeanAbsoluteError(frames[i], read[i]) < 4.0, $"frame {i} differs too much");
        }
    }

    [Fact]
    public void PngFolder_round_trip_is_exact()
    {
        var frames = Enumerable.Range(0, 4).Select(i => TestImages.Random(Width, Height, seed: i)).ToArray();
        WriteClip("p", ClipStorage.PngFolder, frames);

        var clip = Clip.Open(_temp.Combine("p"));

        Assert.True(clip.IsImageFolder);
        Assert.Equal(frames.Select(f => f.Bgr), clip.ReadFrames().Select(f => f.Bgr));
    }

    [Fact]
    public void Labels_are_written_beside_the_clip_and_read_back()
    {
        var labels = new[] { new FrameLabel(0, 0, "normal-cycle"), new FrameLabel(1, 1, "dropped part, \"left\"") };
        using (var writer = new ClipWriter(_temp.Path, "l", fps: 5))
        {
            writer.Append(TestImages.Smooth(Width, Height, 0), labels[0]);
            writer.Append(TestImages.Smooth(Width, Height, 1), labels[1]);
            writer.Complete();
        }

        var clip = Clip.Open(_temp.Combine("l.avi"), requireLabels: true);

        Assert.Equal(labels, clip.Labels);
    }

    [Fact]
    public void Masks_round_trip_exactly_per_kind_and_frame()
    {
        var hand = TestImages.Rectangle(Width, Height, 3, 4, 20, 30);
        var person = TestImages.Rectangle(Width, Height, 50, 10, 60, 50);
        using (var writer = new ClipWriter(_temp.Path, "m", fps: 5))
        {
            writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"), Masks(("normal-object", hand), ("person", person)));
            writer.Append(TestImages.Smooth(Width, Height, 1), new FrameLabel(1, 0, "x"), Masks(("normal-object", BinaryMask.Empty(Width, Height))));
            writer.Complete();
        }

        var clip = Clip.Open(_temp.Combine("m.avi"));

        Assert.Equal(hand.Data, clip.ReadMask("normal-object", 0)!.Data);
        Assert.Equal(person.Data, clip.ReadMask("person", 0)!.Data);
        Assert.Equal(0, clip.ReadMask("normal-object", 1)!.Area);
    }

    [Fact]
    public void ReadMask_of_a_frame_without_a_file_is_an_empty_mask_of_the_frame_size()
    {
        using (var writer = new ClipWriter(_temp.Path, "m", fps: 5))
        {
            writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"), Masks(("person", TestImages.Rectangle(Width, Height, 0, 0, 5, 5))));
            writer.Append(TestImages.Smooth(Width, Height, 1), new FrameLabel(1, 0, "x"));
            writer.Complete();
        }

        var mask = Clip.Open(_temp.Combine("m.avi")).ReadMask("person", 1);

        Assert.NotNull(mask);
        Assert.Equal((Width, Height, 0), (mask.Width, mask.Height, mask.Area));
    }

    [Fact]
    public void ReadMask_of_a_kind_never_written_is_null()
    {
        WriteClip("n", ClipStorage.MjpgAvi, [TestImages.Smooth(Width, Height, 0)]);

        Assert.Null(Clip.Open(_temp.Combine("n.avi")).ReadMask("anomaly", 0));
    }

    [Fact]
    public void A_kind_passed_only_with_empty_masks_reads_as_empty_not_null()
    {
        using (var writer = new ClipWriter(_temp.Path, "e", fps: 5))
        {
            writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"), Masks(("anomaly", BinaryMask.Empty(Width, Height))));
            writer.Complete();
        }

        Assert.Equal(0, Clip.Open(_temp.Combine("e.avi")).ReadMask("anomaly", 0)!.Area);
    }

    [Fact]
    public void Roi_round_trips_and_is_null_when_absent()
    {
        var roi = TestImages.Rectangle(Width, Height, 10, 10, 70, 60);
        using (var writer = new ClipWriter(_temp.Path, "r", fps: 5))
        {
            writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"));
            writer.WriteRoi(roi);
            writer.Complete();
        }

        WriteClip("no-roi", ClipStorage.MjpgAvi, [TestImages.Smooth(Width, Height, 0)]);

        Assert.Equal(roi.Data, Clip.Open(_temp.Combine("r.avi")).ReadRoi()!.Data);
        Assert.Null(Clip.Open(_temp.Combine("no-roi.avi")).ReadRoi());
    }

    [Fact]
    public void Dispose_without_Complete_leaves_no_files()
    {
        using (var writer = new ClipWriter(_temp.Path, "gone", fps: 5))
        {
            writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"), Masks(("person", TestImages.Rectangle(Width, Height, 0, 0, 5, 5))));
            writer.WriteRoi(BinaryMask.Empty(Width, Height));
        }

        Assert.Empty(_temp.Entries());
    }

    [Fact]
    public void Before_Complete_nothing_is_visible_under_the_final_names()
    {
        using var writer = new ClipWriter(_temp.Path, "pending", fps: 5);
        writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"), Masks(("person", TestImages.Rectangle(Width, Height, 0, 0, 5, 5))));

        Assert.All(_temp.Entries(), name => Assert.StartsWith(".", name, StringComparison.Ordinal));
        writer.Complete();
        Assert.Equal(["pending.avi", "pending.labels.csv", "pending.masks"], _temp.Entries());
    }

    [Fact]
    public void Append_with_a_label_for_the_wrong_frame_index_throws()
    {
        using var writer = new ClipWriter(_temp.Path, "w", fps: 5);

        Assert.Throws<ArgumentException>(() => writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(1, 0, "x")));
    }

    [Fact]
    public void Append_of_a_frame_with_a_different_size_throws()
    {
        using var writer = new ClipWriter(_temp.Path, "w", fps: 5);
        writer.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"));

        Assert.Throws<ArgumentException>(() => writer.Append(TestImages.Smooth(Width + 8, Height, 1), new FrameLabel(1, 0, "x")));
    }

    [Fact]
    public void Append_of_a_mask_with_a_different_size_throws()
    {
        using var writer = new ClipWriter(_temp.Path, "w", fps: 5);

        Assert.Throws<ArgumentException>(() => writer.Append(
            TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"), Masks(("person", BinaryMask.Empty(Width, Height + 1)))));
    }

    [Fact]
    public void Complete_without_frames_throws()
    {
        using var writer = new ClipWriter(_temp.Path, "w", fps: 5);

        Assert.Throws<InvalidOperationException>(writer.Complete);
    }

    [Fact]
    public void Constructor_refuses_to_overwrite_an_existing_clip()
    {
        WriteClip("dup", ClipStorage.MjpgAvi, [TestImages.Smooth(Width, Height, 0)]);

        Assert.Throws<IOException>(() => new ClipWriter(_temp.Path, "dup", fps: 5));
    }

    private static Dictionary<string, BinaryMask> Masks(params (string Kind, BinaryMask Mask)[] masks) =>
        masks.ToDictionary(m => m.Kind, m => m.Mask);

    private void WriteClip(string name, ClipStorage storage, IReadOnlyList<Frame> frames)
    {
        using var writer = new ClipWriter(_temp.Path, name, fps: 5, storage);
        for (var i = 0; i < frames.Count; i++)
        {
            writer.Append(frames[i], new FrameLabel(i, 0, "background"));
        }

        writer.Complete();
    }
}
