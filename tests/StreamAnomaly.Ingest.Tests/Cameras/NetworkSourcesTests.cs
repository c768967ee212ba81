using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Tests.Clips;
using static StreamAnomaly.Ingest.Tests.Cameras.SourceTestHelpers;

namespace StreamAnomaly.Ingest.Tests.Cameras;

/// <summary>Sources that talk to a real ffmpeg (installed by scripts/ensure-deps.sh --test).</summary>
public sealed class NetworkSourcesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Mjpeg_source_reads_frames_from_a_real_ffmpeg_mjpeg_server()
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}/cam.mjpg";
        var server = StartFfmpeg("-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=10", "-f", "mpjpeg", "-listen", "1", url);
        try
        {
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            await using var source = new MjpegHttpSource(new Uri(url), http);
            Assert.True(source.IsLive);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

            // ffmpeg serves exactly one client, so no probe connection: retry the real request
            // until the server listens (connection refused until then).
            List<Core.Imaging.Frame>? frames = null;
            while (frames is null)
            {
                try
                {
                    frames = await TakeAsync(source, 5, cts.Token);
                }
                catch (HttpRequestException) when (!cts.IsCancellationRequested && !server.HasExited)
                {
                    await Task.Delay(50, cts.Token);
                }
            }

            Assert.Equal(5, frames.Count);
            Assert.All(frames, f => Assert.Equal((640, 360), (f.Width, f.Height)));
        }
        finally
        {
            KillQuietly(server);
        }
    }

    [Fact]
    public async Task Ffmpeg_source_reads_a_video_file_at_the_requested_size_then_throws_when_ffmpeg_exits()
    {
        var path = WriteVideo(_temp.Combine("clip.avi"), 6, 64, 48);
        await using var source = new FfmpegSource(path, 32, 24);
        var frames = new List<Core.Imaging.Frame>();

        var ex = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var frame in source.ReadAsync(CancellationToken.None))
            {
                frames.Add(frame);
            }
        });

        Assert.Equal(6, frames.Count);
        Assert.All(frames, f => Assert.Equal((32, 24), (f.Width, f.Height)));
        Assert.Contains("exit code 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ffmpeg_failure_carries_its_stderr()
    {
        var missing = _temp.Combine("missing.mp4");
        await using var source = new FfmpegSource(missing, 32, 24);

        var ex = await Assert.ThrowsAsync<IOException>(() => TakeAsync(source, 1));

        Assert.Contains("No such file or directory", ex.Message, StringComparison.Ordinal);
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_ffmpeg_executable_is_a_clear_error()
    {
        await using var source = new FfmpegSource("whatever.mp4", 32, 24, ffmpegPath: "/nonexistent/ffmpeg-xyz");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TakeAsync(source, 1));
        Assert.Contains("/nonexistent/ffmpeg-xyz", ex.Message, StringComparison.Ordinal);
        Assert.Contains("install ffmpeg", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_the_enumeration_kills_ffmpeg_early()
    {
        var path = WriteVideo(_temp.Combine("long.avi"), 200, 64, 48);
        await using var source = new FfmpegSource(path, 64, 48);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var frames = await TakeAsync(source, 2);

        Assert.Equal(2, frames.Count);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Empty(FfmpegProcessesReading(path));
    }

    /// <summary>Running ffmpeg processes whose command line names <paramref name="path"/> (Linux /proc).</summary>
    private static int[] FfmpegProcessesReading(string path) =>
        System.Diagnostics.Process.GetProcessesByName("ffmpeg")
            .Where(p =>
            {
                try
                {
                    return !p.HasExited && File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(path, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            })
            .Select(p => p.Id)
            .ToArray();
}
