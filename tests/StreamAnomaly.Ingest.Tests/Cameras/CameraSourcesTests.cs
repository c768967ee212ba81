using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Cameras;

namespace StreamAnomaly.Ingest.Tests.Cameras;

public sealed class CameraSourcesTests : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    [Theory]
    [InlineData("file:/data/a.avi", typeof(VideoFileSource), false)]
    [InlineData("FILE:/data/a.avi?loop=true", typeof(VideoFileSource), true)]
    [InlineData("folder:/data/frames?loop=false", typeof(ImageFolderSource), false)]
    [InlineData("folder:/data/frames?loop=True", typeof(ImageFolderSource), true)]
    [InlineData("mjpeg:http://10.0.0.7:8080/cam.mjpg", typeof(MjpegHttpSource), true)]
    [InlineData("ffmpeg:rtsp://10.0.0.8/stream?x=1", typeof(FfmpegSource), true)]
    public async Task Builds_the_source_the_scheme_names(string uri, Type expected, bool loopOrLive)
    {
        await using var source = CameraSources.Create(new CameraOptions("cam-1", uri), _http);
        Assert.IsType(expected, source);
        Assert.Equal(source.IsLive, CameraSources.IsLive(uri));
        if (expected == typeof(VideoFileSource) || expected == typeof(ImageFolderSource))
        {
            Assert.Equal(loopOrLive, source.Description.EndsWith("(loop)", StringComparison.Ordinal));
        }
        else
        {
            Assert.True(source.IsLive);
        }
    }

    [Fact]
    public async Task Ffmpeg_url_is_passed_whole_and_scaled_to_the_published_size()
    {
        await using var source = CameraSources.Create(new CameraOptions("cam-1", "ffmpeg:rtsp://10.0.0.8/stream?x=1", Width: 96, Height: 64), _http);
        Assert.Equal("ffmpeg rtsp://10.0.0.8/stream?x=1 (96x64)", source.Description);
    }

    [Theory]
    [InlineData("synthetic:7")]
    [InlineData("nonsense")]
    [InlineData(":x")]
    [InlineData("file:")]
    [InlineData("file:/a.avi?loop=maybe")]
    [InlineData("folder:/x?speed=2")]
    [InlineData("mjpeg:ftp://host/x")]
    [InlineData("mjpeg:not a url")]
    [InlineData("ffmpeg:")]
    public void Unknown_or_malformed_source_names_camera_and_value(string uri)
    {
        var ex = Assert.Throws<ArgumentException>(() => CameraSources.Create(new CameraOptions("cam-9", uri), _http));
        Assert.Contains("cam-9", ex.Message, StringComparison.Ordinal);
        Assert.Contains(uri, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ffmpeg_with_a_region_of_interest_is_rejected()
    {
        var camera = new CameraOptions("cam-2", "ffmpeg:rtsp://h/s", Roi: new RegionOfInterest(0, 0, 10, 10));
        var ex = Assert.Throws<ArgumentException>(() => CameraSources.Create(camera, _http));
        Assert.Contains("region of interest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extra_schemes_hook_is_asked_first_and_may_decline()
    {
        var plugged = new ImageFolderSource("/plugged", loop: false);
        ICameraSource? Hook(CameraOptions c) => c.Source.StartsWith("synthetic:", StringComparison.Ordinal) ? plugged : null;

        await using var synthetic = CameraSources.Create(new CameraOptions("cam-3", "synthetic:42"), _http, Hook);
        await using var file = CameraSources.Create(new CameraOptions("cam-3", "file:/a.avi"), _http, Hook);

        Assert.Same(plugged, synthetic);
        Assert.IsType<VideoFileSource>(file);
    }
}
