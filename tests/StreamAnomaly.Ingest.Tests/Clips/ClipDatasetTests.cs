using OpenCvSharp;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Tests.Clips;

public sealed class ClipDatasetTests : IDisposable
{
    private const int Width = 64;
    private const int Height = 48;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Open_returns_every_clip_sorted_by_name_with_labels()
    {
        WriteClip("b", 3, ClipStorage.MjpgAvi);
        WriteClip("a", 2, ClipStorage.PngFolder);
        WriteClip("c", 1, ClipStorage.MjpgAvi);

        var clips = ClipDataset.Open(_temp.Path, requireLabels: true);

        Assert.Equal(["a", "b", "c"], clips.Select(c => c.Name));
        Assert.Equal([2, 3, 1], clips.Select(c => c.Labels!.Count));
    }

    [Fact]
    public void Open_reads_clips_made_by_another_tool_mp4_and_jpeg_folder_with_hand_written_labels()
    {
        var mp4 = _temp.Combine("cam1.mp4");
        using (var video = new VideoWriter(mp4, VideoCaptureAPIs.FFMPEG, FourCC.MP4V, 10, new Size(Width, Height), true))
        {
            Assert.True(video.IsOpened());
            for (var i = 0; i < 5; i++)
            {
                using var mat = ImageCodec.ToMat(TestImages.Smooth(Width, Height, i));
                video.Write(mat);
            }
        }

        Directory.CreateDirectory(_temp.Combine("cam2"));
        for (var i = 0; i < 3; i++)
        {
            using var mat = ImageCodec.ToMat(TestImages.Smooth(Width, Height, i));
            Cv2.ImWrite(_temp.Combine("cam2", $"img_{i:D3}.jpg"), mat);
        }

        File.WriteAllText(_temp.Combine("cam1.labels.csv"), "frame,label,category\n0,0,ok\n1,0,ok\n2,1,\"bad, really\"\n3,1,bad\n4,0,ok\n");
        File.WriteAllText(_temp.Combine("cam2.labels.csv"), "frame,label,category\r\n0,0,ok\r\n1,0,ok\r\n2,0,ok\r\n");

        var clips = ClipDataset.Open(_temp.Path, requireLabels: true);

        Assert.Equal(["cam1", "cam2"], clips.Select(c => c.Name));
        Assert.Equal(5, clips[0].ReadFrames().Count());
        Assert.Equal("bad, really", clips[0].Labels![2].Category);
        Assert.All(clips[1].ReadFrames(), f => Assert.Equal((Width, Height), (f.Width, f.Height)));
    }

    [Fact]
    public void Open_without_requireLabels_accepts_a_clip_without_labels()
    {
        WriteClip("a", 2, ClipStorage.MjpgAvi);
        File.Delete(_temp.Combine("a.labels.csv"));

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: false));

        Assert.Null(clip.Labels);
    }

    [Fact]
    public void Open_ignores_the_hidden_staging_folder_of_an_unfinished_writer()
    {
        WriteClip("done", 1, ClipStorage.MjpgAvi);
        using var pending = new ClipWriter(_temp.Path, "pending", fps: 5, ClipStorage.PngFolder);
        pending.Append(TestImages.Smooth(Width, Height, 0), new FrameLabel(0, 0, "x"));

        Assert.Equal(["done"], ClipDataset.Open(_temp.Path, requireLabels: true).Select(c => c.Name));
    }

    [Fact]
    public void Open_of_a_missing_folder_throws_naming_it()
    {
        var missing = _temp.Combine("nope");

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(missing, requireLabels: false));

        Assert.Equal(missing, ex.Path);
    }

    [Fact]
    public void Open_of_a_folder_without_clips_throws_naming_it()
    {
        File.WriteAllText(_temp.Combine("readme.txt"), "not a clip");

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: false));

        Assert.Equal(_temp.Path, ex.Path);
        Assert.Contains("no clips", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_with_requireLabels_and_a_clip_without_labels_throws_naming_the_expected_labels_file()
    {
        WriteClip("a", 2, ClipStorage.MjpgAvi);
        File.Delete(_temp.Combine("a.labels.csv"));

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: true));

        Assert.Equal(_temp.Combine("a.labels.csv"), ex.Path);
    }

    [Fact]
    public void Open_with_a_malformed_labels_file_throws_naming_it()
    {
        WriteClip("a", 2, ClipStorage.MjpgAvi);
        File.WriteAllText(_temp.Combine("a.labels.csv"), "frame;label;category\n0;0;x\n1;0;x\n");

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: false));

        Assert.Equal(_temp.Combine("a.labels.csv"), ex.Path);
    }

    [Theory]
    [InlineData(ClipStorage.MjpgAvi)]
    [InlineData(ClipStorage.PngFolder)]
    public void Open_with_fewer_labels_than_frames_throws_naming_the_labels_file(ClipStorage storage)
    {
        WriteClip("a", 3, storage);
        File.WriteAllText(_temp.Combine("a.labels.csv"), "frame,label,category\n0,0,x\n1,0,x\n");

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: false));

        Assert.Equal(_temp.Combine("a.labels.csv"), ex.Path);
        Assert.Contains("2 label rows", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3 frames", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_with_a_labels_file_without_its_clip_throws_naming_the_labels_file()
    {
        WriteClip("a", 1, ClipStorage.MjpgAvi);
        File.WriteAllText(_temp.Combine("orphan.labels.csv"), "frame,label,category\n0,0,x\n");

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: false));

        Assert.Equal(_temp.Combine("orphan.labels.csv"), ex.Path);
    }

    [Fact]
    public void Open_with_two_clips_of_the_same_name_throws()
    {
        WriteClip("a", 1, ClipStorage.MjpgAvi);
        File.Copy(_temp.Combine("a.avi"), _temp.Combine("a.mkv"));

        Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: false));
    }

    [Fact]
    public void ReadFrames_of_an_unreadable_video_throws_naming_the_file()
    {
        var path = _temp.Combine("junk.avi");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: false));
        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadFrames().ToList());

        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void Open_of_an_unreadable_video_with_labels_throws_naming_the_video()
    {
        var path = _temp.Combine("junk.avi");
        File.WriteAllBytes(path, [1, 2, 3]);
        File.WriteAllText(_temp.Combine("junk.labels.csv"), "frame,label,category\n0,0,x\n");

        var ex = Assert.Throws<InvalidDataFileException>(() => ClipDataset.Open(_temp.Path, requireLabels: true));

        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void ReadFrames_of_a_corrupt_image_in_a_folder_throws_naming_the_image()
    {
        WriteClip("a", 3, ClipStorage.PngFolder);
        var corrupt = _temp.Combine("a", "000001.png");
        File.WriteAllBytes(corrupt, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));
        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadFrames().ToList());

        Assert.Equal(corrupt, ex.Path);
    }

    [Fact]
    public void ReadFrames_of_an_oversize_image_in_a_folder_throws_one_line_naming_the_image()
    {
        WriteClip("a", 3, ClipStorage.PngFolder);
        var bomb = _temp.Combine("a", "000001.png");
        File.WriteAllBytes(bomb, HostileImages.Png());

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));
        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadFrames().ToList());

        Assert.Equal(bomb, ex.Path);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void ReadFrames_of_a_folder_image_with_a_different_size_throws_naming_the_image()
    {
        WriteClip("a", 3, ClipStorage.PngFolder);
        var odd = _temp.Combine("a", "000002.png");
        ImageCodec.WriteFrame(odd, TestImages.Smooth(Width + 2, Height, 0));

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));
        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadFrames().ToList());

        Assert.Equal(odd, ex.Path);
        Assert.Contains("frame 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMask_of_a_mask_with_the_wrong_size_throws_naming_the_mask()
    {
        WriteClip("a", 1, ClipStorage.MjpgAvi);
        Directory.CreateDirectory(_temp.Combine("a.masks", "person"));
        var mask = _temp.Combine("a.masks", "person", "000000.png");
        ImageCodec.WriteMask(mask, BinaryMask.Empty(Width / 2, Height));

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));
        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadMask("person", 0));

        Assert.Equal(mask, ex.Path);
    }

    [Fact]
    public void ReadMask_of_a_colour_image_throws_naming_the_mask()
    {
        WriteClip("a", 1, ClipStorage.MjpgAvi);
        Directory.CreateDirectory(_temp.Combine("a.masks", "person"));
        var mask = _temp.Combine("a.masks", "person", "000000.png");
        ImageCodec.WriteFrame(mask, TestImages.Smooth(Width, Height, 0));

        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));
        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadMask("person", 0));

        Assert.Equal(mask, ex.Path);
        Assert.Contains("single-channel", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fifo_named_like_a_video_is_refused_by_name_instead_of_blocking()
    {
        WriteClip("a", 2, ClipStorage.MjpgAvi);
        var fifo = _temp.Combine("b.avi");
        SpecialFiles.Fifo(fifo);

        var ex = await Assert.ThrowsAsync<InvalidDataFileException>(() => Task.Run(() => ClipDataset.Open(_temp.Path, requireLabels: false)).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal($"{fifo}: is a FIFO (named pipe), not a regular file; refusing to read it", ex.Message);
    }

    [Fact]
    public async Task A_fifo_among_the_images_of_a_folder_clip_is_refused_by_name_instead_of_blocking()
    {
        WriteClip("a", 2, ClipStorage.PngFolder);
        var fifo = _temp.Combine("a", "000002.png");
        SpecialFiles.Fifo(fifo);

        var ex = await Assert.ThrowsAsync<InvalidDataFileException>(() => Task.Run(() => ClipDataset.Open(_temp.Path, requireLabels: false)[0].ReadFrames().ToList()).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(fifo, ex.Path);
    }

    [Fact]
    public async Task A_fifo_in_place_of_a_mask_is_refused_by_name_instead_of_blocking()
    {
        WriteClip("a", 1, ClipStorage.MjpgAvi);
        Directory.CreateDirectory(_temp.Combine("a.masks", "person"));
        var fifo = _temp.Combine("a.masks", "person", "000000.png");
        SpecialFiles.Fifo(fifo);
        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));

        var ex = await Assert.ThrowsAsync<InvalidDataFileException>(() => Task.Run(() => clip.ReadMask("person", 0)).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(fifo, ex.Path);
    }

    [Fact]
    public void ReadFrames_of_a_truncated_video_that_still_declares_every_frame_throws_naming_it()
    {
        WriteClip("a", 36, ClipStorage.MjpgAvi);
        var video = _temp.Combine("a.avi");
        var bytes = File.ReadAllBytes(video);
        File.WriteAllBytes(video, bytes[..(bytes.Length * 2 / 5)]);
        var clip = Assert.Single(ClipDataset.Open(_temp.Path, requireLabels: true));
        Assert.Equal(36, clip.CountFrames());

        var ex = Assert.Throws<InvalidDataFileException>(() => clip.ReadFrames().ToList());

        Assert.Equal(video, ex.Path);
        Assert.Matches("only [0-9]+ frames decode but its labels list 36", ex.Message);
    }

    private void WriteClip(string name, int frames, ClipStorage storage)
    {
        using var writer = new ClipWriter(_temp.Path, name, fps: 5, storage);
        for (var i = 0; i < frames; i++)
        {
            writer.Append(TestImages.Smooth(Width, Height, i), new FrameLabel(i, 0, "background"));
        }

        writer.Complete();
    }
}
