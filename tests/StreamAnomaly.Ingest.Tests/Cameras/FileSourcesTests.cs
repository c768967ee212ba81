using StreamAnomaly.Core.Data;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Tests.Clips;
using static StreamAnomaly.Ingest.Tests.Cameras.SourceTestHelpers;

namespace StreamAnomaly.Ingest.Tests.Cameras;

public sealed class FileSourcesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Video_file_played_once_ends_after_its_frames()
    {
        var path = WriteVideo(_temp.Combine("clip.avi"), 5);
        await using var source = new VideoFileSource(path, loop: false);
        Assert.False(source.IsLive);

        var frames = await TakeAsync(source, 100);

        Assert.Equal(5, frames.Count);
        Assert.All(frames, f => Assert.Equal((64, 48), (f.Width, f.Height)));
        Assert.True(TestImages.MeanAbsoluteError(frames[3], TestImages.Smooth(64, 48, 3)) < 4);
    }

    [Fact]
    public async Task Video_file_looped_starts_again_at_its_end()
    {
        var path = WriteVideo(_temp.Combine("clip.avi"), 5);
        await using var source = new VideoFileSource(path, loop: true);

        var frames = await TakeAsync(source, 12);

        Assert.Equal(12, frames.Count);
        Assert.Equal(frames[1].Bgr, frames[6].Bgr);
        Assert.Equal(frames[0].Bgr, frames[10].Bgr);
    }

    [Fact]
    public async Task Missing_video_file_names_the_path()
    {
        var path = _temp.Combine("nope.avi");
        await using var source = new VideoFileSource(path, loop: true);
        var ex = await Assert.ThrowsAsync<FileNotFoundException>(() => TakeAsync(source, 1));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreadable_video_file_names_the_path()
    {
        var path = _temp.Combine("junk.avi");
        await File.WriteAllTextAsync(path, "this is not a video");
        await using var source = new VideoFileSource(path, loop: true);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => TakeAsync(source, 1));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Image_folder_plays_images_in_ordinal_name_order_and_ignores_other_files()
    {
        ImageCodec.WriteFrame(_temp.Combine("b.png"), Solid(8, 8, 0, 0, 2));
        ImageCodec.WriteFrame(_temp.Combine("a.PNG"), Solid(8, 8, 0, 0, 1));
        ImageCodec.WriteFrame(_temp.Combine("10.bmp"), Solid(8, 8, 0, 0, 0));
        ImageCodec.WriteFrame(_temp.Combine("c.jpg"), Solid(8, 8, 0, 0, 200));
        await File.WriteAllTextAsync(_temp.Combine("notes.txt"), "ignored");
        await using var source = new ImageFolderSource(_temp.Path, loop: false);

        var frames = await TakeAsync(source, 100);

        Assert.Equal(["10.bmp", "a.PNG", "b.png", "c.jpg"], source.ListImages().Select(Path.GetFileName));
        Assert.Equal(4, frames.Count);
        Assert.Equal([0, 1, 2], frames.Take(3).Select(f => (int)f.Bgr[2]));
        Assert.InRange(frames[3].Bgr[2], 190, 210);
    }

    [Fact]
    public async Task Image_folder_loops_when_asked()
    {
        ImageCodec.WriteFrame(_temp.Combine("0.png"), Solid(8, 8, 0, 0, 10));
        ImageCodec.WriteFrame(_temp.Combine("1.png"), Solid(8, 8, 0, 0, 20));
        await using var source = new ImageFolderSource(_temp.Path, loop: true);

        var frames = await TakeAsync(source, 5);

        Assert.Equal([10, 20, 10, 20, 10], frames.Select(f => (int)f.Bgr[2]));
    }

    [Fact]
    public async Task Corrupt_image_names_the_file()
    {
        ImageCodec.WriteFrame(_temp.Combine("0.png"), Solid(8, 8, 0, 0, 10));
        var bad = _temp.Combine("1.png");
        await File.WriteAllBytesAsync(bad, [1, 2, 3, 4, 5]);
        await using var source = new ImageFolderSource(_temp.Path, loop: false);

        var ex = await Assert.ThrowsAsync<InvalidDataFileException>(() => TakeAsync(source, 10));

        Assert.Contains(bad, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversize_image_in_a_folder_camera_names_the_file()
    {
        ImageCodec.WriteFrame(_temp.Combine("0.png"), Solid(8, 8, 0, 0, 10));
        var bomb = _temp.Combine("1.jpg");
        await File.WriteAllBytesAsync(bomb, HostileImages.Jpeg());
        await using var source = new ImageFolderSource(_temp.Path, loop: false);

        var ex = await Assert.ThrowsAsync<InvalidDataFileException>(() => TakeAsync(source, 10));

        Assert.Equal(bomb, ex.Path);
        Assert.Contains("30000x30000", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_or_empty_folder_names_the_folder()
    {
        var missing = _temp.Combine("nope");
        await using var source = new ImageFolderSource(missing, loop: false);
        var ex = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => TakeAsync(source, 1));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);

        await using var empty = new ImageFolderSource(_temp.Path, loop: false);
        var ex2 = await Assert.ThrowsAsync<InvalidDataException>(() => TakeAsync(empty, 1));
        Assert.Contains(_temp.Path, ex2.Message, StringComparison.Ordinal);
    }
}
