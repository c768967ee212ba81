using Microsoft.Extensions.Time.Testing;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Clips;
using static StreamAnomaly.Ingest.Tests.Cameras.SourceTestHelpers;

namespace StreamAnomaly.Ingest.Tests.Cameras;

public class CameraPumpTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static Frame[] Frames(int count, int width = 32, int height = 24) =>
        Enumerable.Range(0, count).Select(i => Solid(width, height, (byte)(i * 10), 100, 50)).ToArray();

    /// <summary>Runs the task to completion, advancing the fake clock in small steps while it runs.</summary>
    private static async Task DriveAsync(FakeTimeProvider time, Task run, TimeSpan step)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!run.IsCompleted)
        {
            Assert.True(deadline.Elapsed < Timeout, "the pump did not finish");
            await Task.Delay(1);
            time.Advance(step);
        }

        await run;
    }

    [Fact]
    public async Task File_source_is_paced_to_fps_with_sequences_from_the_first_one()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var source = new ScriptedSource(isLive: false, (_, ct) => ScriptedSource.Frames(Frames(10), cancellationToken: ct));
        var sink = new RecordingSink();
        var observer = new RecordingObserver();
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 5, Width: 16, Height: 12), "line-1", source, sink, time, 100, observer);

        await DriveAsync(time, pump.RunAsync(CancellationToken.None), TimeSpan.FromMilliseconds(50));

        var published = sink.Received.Select(r => r.Metadata).ToArray();
        Assert.Equal(10, published.Length);
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (long)i), published.Select(m => m.Sequence));
        Assert.Equal(110, pump.NextSequence);
        var gaps = published.Zip(published.Skip(1), (a, b) => b.CaptureTime - a.CaptureTime).ToArray();
        Assert.All(gaps, g => Assert.True(g >= TimeSpan.FromMilliseconds(200), $"gap {g} shorter than 1/Fps"));
        Assert.True(published[^1].CaptureTime - published[0].CaptureTime < TimeSpan.FromSeconds(2.5), "the file played much slower than Fps");
        Assert.All(published, m => Assert.Equal(("cam-1", "line-1", 16, 12, FrameMetadata.Jpeg), (m.Camera, m.Line, m.Width, m.Height, m.Codec)));
        Assert.Equal([CameraState.Starting, CameraState.Online, CameraState.Ended], observer.States);
        Assert.Equal(new CameraPumpCounters(10, 0, 0, 0, 0), pump.Counters);
    }

    [Fact]
    public async Task Live_source_faster_than_fps_is_sampled_down_to_fps()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var source = new ScriptedSource(isLive: true, (_, ct) => ScriptedSource.Frames(Frames(25), time, TimeSpan.FromMilliseconds(40), ct));
        var sink = new RecordingSink();
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 10, Width: 32, Height: 24), "line-1", source, sink, time, 0);

        await DriveAsync(time, pump.RunAsync(CancellationToken.None), TimeSpan.FromMilliseconds(10));

        var published = sink.Received.Select(r => r.Metadata).ToArray();
        var counters = pump.Counters;
        Assert.Equal(25, counters.Published + counters.SkippedByRate);
        Assert.InRange(counters.Published, 8, 11);
        var span = published[^1].CaptureTime - published[0].CaptureTime;
        // n + 1 frames span at least (n - 1/2) periods.
        Assert.True(span.TotalSeconds >= (counters.Published - 1.5) / 10, $"{counters.Published} frames in {span}: more than Fps");
        Assert.All(published.Zip(published.Skip(1), (a, b) => b.CaptureTime - a.CaptureTime), g => Assert.True(g >= TimeSpan.FromMilliseconds(50), $"gap {g}"));
    }

    [Fact]
    public async Task Live_source_at_fps_with_timing_jitter_loses_no_frame()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        async IAsyncEnumerable<Frame> Jittered([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
        {
            // A 5 fps camera whose frames come 170 ms and 230 ms apart in turn.
            for (var i = 0; i < 12; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(i % 2 == 0 ? 170 : 230), time, ct);
                yield return Solid(16, 16, 1, 2, 3);
            }
        }

        var source = new ScriptedSource(isLive: true, (_, ct) => Jittered(ct));
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 5, Width: 16, Height: 16), "line-1", source, new RecordingSink(), time, 0);

        await DriveAsync(time, pump.RunAsync(CancellationToken.None), TimeSpan.FromMilliseconds(10));

        Assert.Equal(new CameraPumpCounters(12, 0, 0, 0, 0), pump.Counters);
    }

    [Fact]
    public async Task Roi_is_cropped_then_resized()
    {
        // 64x48 grey frame with a red 32x32 square at (16, 8).
        var frame = Solid(64, 48, 128, 128, 128);
        for (var y = 8; y < 40; y++)
        {
            for (var x = 16; x < 48; x++)
            {
                var i = ((y * 64) + x) * 3;
                (frame.Bgr[i], frame.Bgr[i + 1], frame.Bgr[i + 2]) = (0, 0, 255);
            }
        }

        async Task<Frame> PublishedWith(RegionOfInterest? roi)
        {
            var source = new ScriptedSource(isLive: false, (_, ct) => ScriptedSource.Frames([frame], cancellationToken: ct));
            var sink = new RecordingSink();
            var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 100, Width: 16, Height: 16, Roi: roi), "l", source, sink, TimeProvider.System, 0);
            await pump.RunAsync(CancellationToken.None);
            var (metadata, encoded) = Assert.Single(sink.Received);
            Assert.Equal((16, 16), (metadata.Width, metadata.Height));
            return ImageCodec.DecodeFrame(encoded);
        }

        var red = await PublishedWith(new RegionOfInterest(16, 8, 32, 32));
        var grey = await PublishedWith(new RegionOfInterest(0, 0, 16, 48));
        var whole = await PublishedWith(null);

        Assert.Equal((16, 16), (red.Width, red.Height));
        for (var p = 0; p < 16 * 16; p++)
        {
            Assert.True(red.Bgr[(p * 3) + 2] > 230 && red.Bgr[p * 3] < 30, $"pixel {p} of the red ROI is not red");
            Assert.True(Math.Abs(grey.Bgr[(p * 3) + 2] - 128) < 12 && Math.Abs(grey.Bgr[p * 3] - 128) < 12, $"pixel {p} of the grey ROI is not grey");
        }

        // Without ROI the square is in the middle: red at the centre, grey at the corner.
        Assert.True(whole.Bgr[((8 * 16) + 8) * 3 + 2] > 200 && whole.Bgr[((8 * 16) + 8) * 3] < 50);
        Assert.True(Math.Abs(whole.Bgr[2] - 128) < 20);
    }

    [Fact]
    public async Task Roi_that_does_not_fit_the_frame_is_reported_and_the_frame_skipped()
    {
        Frame[] frames = [Solid(64, 48, 1, 2, 3), Solid(32, 24, 1, 2, 3), Solid(64, 48, 1, 2, 3)];
        var source = new ScriptedSource(isLive: false, (_, ct) => ScriptedSource.Frames(frames, cancellationToken: ct));
        var sink = new RecordingSink();
        var observer = new RecordingObserver();
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 100, Width: 8, Height: 8, Roi: new RegionOfInterest(16, 8, 32, 32)), "l", source, sink, TimeProvider.System, 0, observer);

        await pump.RunAsync(CancellationToken.None);

        Assert.Equal(new CameraPumpCounters(2, 0, 0, 1, 0), pump.Counters);
        var (reason, detail) = Assert.Single(observer.Dropped);
        Assert.Equal(FrameDropReason.FrameError, reason);
        Assert.Contains("outside the 32x24 frame", detail, StringComparison.Ordinal);
        Assert.Equal([0L, 1L], sink.Received.Select(r => r.Metadata.Sequence));
        Assert.Equal(CameraState.Ended, pump.State);
    }

    [Fact]
    public async Task Sink_failures_are_counted_and_do_not_stop_the_pump()
    {
        var source = new ScriptedSource(isLive: false, (_, ct) => ScriptedSource.Frames(Frames(5), cancellationToken: ct));
        var sink = new RecordingSink(failOn: call => call is 1 or 2);
        var observer = new RecordingObserver();
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 200, Width: 8, Height: 8), "l", source, sink, TimeProvider.System, 7, observer);

        await pump.RunAsync(CancellationToken.None);

        Assert.Equal(new CameraPumpCounters(3, 0, 0, 0, 2), pump.Counters);
        Assert.Equal([7L, 8, 9, 10, 11], sink.Received.Select(r => r.Metadata.Sequence));
        Assert.Equal([7L, 10, 11], observer.Published.Select(m => m.Sequence));
        Assert.All(observer.Dropped, d => Assert.Equal(FrameDropReason.SinkError, d.Reason));
        Assert.Contains("broker down", observer.Dropped[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Source_failing_twice_is_retried_with_growing_backoff_then_goes_online()
    {
        var source = new ScriptedSource(isLive: false, (read, ct) => read < 2 ? ScriptedSource.Failing($"refused {read}") : ScriptedSource.Frames(Frames(3), cancellationToken: ct));
        var observer = new RecordingObserver();
        var options = new CameraPumpOptions { ReconnectBaseDelay = TimeSpan.FromMilliseconds(30), ReconnectMaxDelay = TimeSpan.FromSeconds(1), ReconnectJitter = false };
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 1000, Width: 8, Height: 8), "l", source, new RecordingSink(), TimeProvider.System, 0, observer, options);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await pump.RunAsync(CancellationToken.None);

        Assert.Equal([CameraState.Starting, CameraState.Offline, CameraState.Online, CameraState.Ended], observer.States);
        Assert.Contains("refused 0", observer.Reasons[1], StringComparison.Ordinal);
        Assert.Equal([TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(60)], observer.ReconnectDelays);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(85), $"reconnected after {clock.Elapsed}, before the back-off delays");
        Assert.Equal(3, source.Reads);
        Assert.Equal(2, pump.Counters.SourceErrors);
        Assert.Equal(3, pump.Counters.Published);
    }

    [Fact]
    public async Task Jittered_backoff_stays_positive_and_capped()
    {
        var source = new ScriptedSource(isLive: true, (read, ct) => read < 8 ? ScriptedSource.Failing("down") : ScriptedSource.Frames(Frames(1), cancellationToken: ct));
        var observer = new RecordingObserver();
        var options = new CameraPumpOptions { ReconnectBaseDelay = TimeSpan.FromMilliseconds(5), ReconnectMaxDelay = TimeSpan.FromMilliseconds(40) };
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 1000, Width: 8, Height: 8), "l", source, new RecordingSink(), TimeProvider.System, 0, observer, options);

        await pump.RunAsync(CancellationToken.None);

        Assert.Equal(8, observer.ReconnectDelays.Count);
        Assert.All(observer.ReconnectDelays, d => Assert.InRange(d, TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(40)));
        Assert.True(observer.ReconnectDelays.Distinct().Count() > 1, "jitter should vary the delays");
    }

    [Fact]
    public async Task Connection_dropped_after_frames_reconnects_after_the_base_delay()
    {
        static async IAsyncEnumerable<Frame> TwoThenDrop(Frame[] frames)
        {
            yield return frames[0];
            await Task.Yield();
            yield return frames[1];
            throw new IOException("connection reset");
        }

        var frames = Frames(3);
        var source = new ScriptedSource(isLive: false, (read, ct) => read == 0 ? TwoThenDrop(frames) : ScriptedSource.Frames(frames[2..], cancellationToken: ct));
        var observer = new RecordingObserver();
        var options = new CameraPumpOptions { ReconnectBaseDelay = TimeSpan.FromMilliseconds(10), ReconnectJitter = false };
        var sink = new RecordingSink();
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 1000, Width: 8, Height: 8), "l", source, sink, TimeProvider.System, 0, observer, options);

        await pump.RunAsync(CancellationToken.None);

        Assert.Equal([CameraState.Starting, CameraState.Online, CameraState.Offline, CameraState.Online, CameraState.Ended], observer.States);
        Assert.Equal([TimeSpan.FromMilliseconds(10)], observer.ReconnectDelays);
        Assert.Equal([0L, 1, 2], sink.Received.Select(r => r.Metadata.Sequence));
    }

    [Fact]
    public async Task Stall_watchdog_reports_stalled_then_online_when_frames_resume()
    {
        var frames = Frames(4);
        async IAsyncEnumerable<Frame> Pausing()
        {
            yield return frames[0];
            yield return frames[1];
            await Task.Delay(400);
            yield return frames[2];
            yield return frames[3];
        }

        var source = new ScriptedSource(isLive: true, (_, _) => Pausing());
        var observer = new RecordingObserver();
        var options = new CameraPumpOptions { StallTimeout = TimeSpan.FromMilliseconds(100) };
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 1000, Width: 8, Height: 8), "l", source, new RecordingSink(), TimeProvider.System, 0, observer, options);

        await pump.RunAsync(CancellationToken.None);

        Assert.Equal([CameraState.Starting, CameraState.Online, CameraState.Stalled, CameraState.Online, CameraState.Ended], observer.States);
    }

    [Fact]
    public async Task Cancellation_stops_a_live_pump()
    {
        var time = TimeProvider.System;
        var source = new ScriptedSource(isLive: true, (_, ct) => ScriptedSource.Frames(Enumerable.Repeat(Solid(32, 24, 1, 2, 3), 100_000), time, TimeSpan.FromMilliseconds(5), ct));
        var pump = new CameraPump(new CameraOptions("cam-1", "test", Fps: 50, Width: 8, Height: 8), "l", source, new RecordingSink(), time, 0);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pump.RunAsync(cts.Token));

        Assert.InRange(pump.Counters.Published, 1, 20);
        Assert.Equal(0, pump.Counters.SourceErrors);
    }

    [Theory]
    [InlineData("bad id", "line", 5.0)]
    [InlineData("cam", "", 5.0)]
    [InlineData("cam", "line", 0.0)]
    public void Invalid_configuration_is_rejected_at_construction(string camera, string line, double fps)
    {
        var source = new ScriptedSource(false, (_, ct) => ScriptedSource.Frames([], cancellationToken: ct));
        Assert.Throws<ArgumentException>(() => new CameraPump(new CameraOptions(camera, "x", Fps: fps), line, source, new RecordingSink(), TimeProvider.System, 0));
        Assert.Throws<ArgumentException>(() => new CameraPump(new CameraOptions("cam", "x"), "line", source, new RecordingSink(), TimeProvider.System, 0, options: new CameraPumpOptions { JpegQuality = 0 }));
    }
}
