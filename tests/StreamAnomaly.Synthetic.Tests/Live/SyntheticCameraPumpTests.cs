using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Live;

namespace StreamAnomaly.Synthetic.Tests.Live;

/// <summary>The composition the host does: a synthetic: camera URI through CameraSources' hook into a pump.</summary>
public class SyntheticCameraPumpTests
{
    [Fact]
    public async Task Synthetic_camera_through_the_source_hook_publishes_jpeg_frames_at_fps()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var camera = new CameraOptions("cell-1", "synthetic:4?hands=true", Fps: 5, Width: 64, Height: 48);
        using var http = new HttpClient();
        await using var source = CameraSources.Create(camera, http, c => SyntheticCameraSource.TryCreate(c, time));
        var sink = new Sink();
        var pump = new CameraPump(camera, "line-a", source, sink, time, firstSequence: 1000);
        using var cts = new CancellationTokenSource();

        var run = pump.RunAsync(cts.Token);
        for (var i = 0; i < 200 && sink.Frames.Count < 10; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(1);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        var frames = sink.Frames.ToArray();
        Assert.True(frames.Length >= 10, $"only {frames.Length} frames published");
        Assert.Equal(Enumerable.Range(1000, frames.Length).Select(i => (long)i), frames.Select(f => f.Metadata.Sequence));
        Assert.All(frames.Zip(frames.Skip(1)), p => Assert.True(p.Second.Metadata.CaptureTime - p.First.Metadata.CaptureTime >= TimeSpan.FromMilliseconds(200)));
        var decoded = ImageCodec.DecodeFrame(frames[0].Jpeg);
        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
        Assert.Equal(CameraState.Online, pump.State);
        Assert.IsType<SyntheticCameraSource>(source);
    }

    private sealed class Sink : IFrameSink
    {
        public ConcurrentQueue<(FrameMetadata Metadata, byte[] Jpeg)> Frames { get; } = new();

        public Task PublishAsync(FrameMetadata metadata, ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
        {
            Frames.Enqueue((metadata, encoded.ToArray()));
            return Task.CompletedTask;
        }
    }
}
