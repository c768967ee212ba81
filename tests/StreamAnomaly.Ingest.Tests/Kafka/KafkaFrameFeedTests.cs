using Confluent.Kafka;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Tests.Clips;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class KafkaFrameFeedTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Frames_of_two_cameras_are_delivered_once_each_with_their_metadata_and_pixels()
    {
        var options = KafkaTestKit.FreshOptions();
        const int perCamera = 15;
        using (var sink = new KafkaFrameSink(options, KafkaTestKit.Bootstrap))
        {
            var sends = new List<Task>();
            for (var sequence = 0; sequence < perCamera; sequence++)
            {
                foreach (var camera in new[] { "cam-a", "cam-c" })
                {
                    sends.Add(sink.PublishAsync(KafkaTestKit.Metadata(camera, sequence), KafkaTestKit.Jpeg(sequence), CancellationToken.None));
                }
            }

            await Task.WhenAll(sends);
        }

        var observer = new RecordingObserver();
        var collector = new FrameCollector();
        await using (var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System, observer))
        {
            var run = feed.RunAsync(f => { collector.Add(f); feed.Acknowledge(f.Receipt); }, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => collector.Count >= 2 * perCamera, Patience), $"{collector.Count} frames arrived");
            await Task.Delay(500);
            Assert.False(run.IsCompleted);
        }

        var frames = collector.Frames;
        Assert.Equal(2 * perCamera, frames.Length);
        Assert.Equal(2 * perCamera, frames.Select(f => f.Metadata.Key).Distinct().Count());
        Assert.Equal(2 * perCamera, observer.Consumed);
        foreach (var frame in frames)
        {
            var sequence = frame.Metadata.Sequence;
            Assert.Equal(KafkaTestKit.Metadata(frame.Metadata.Camera, sequence), frame.Metadata);
            Assert.Equal(ImageCodec.DecodeFrame(KafkaTestKit.Jpeg(sequence)).Bgr, frame.Image.Bgr);
            Assert.True(TestImages.MeanAbsoluteError(KafkaTestKit.Image(sequence), frame.Image) < 3.0);
        }

        // Each camera's frames come in sequence order (one key, one partition).
        foreach (var camera in frames.GroupBy(f => f.Metadata.Camera))
        {
            Assert.Equal(Enumerable.Range(0, perCamera).Select(i => (long)i), camera.Select(f => f.Metadata.Sequence));
        }

        Assert.Empty(observer.Errors);
        Assert.True(observer.Commits > 0);
        Assert.NotEmpty(observer.Lags);
        Assert.All(observer.Lags, l => Assert.True(l.Lag >= 0));
    }

    [Fact]
    public async Task The_sink_refuses_a_frame_above_MaxMessageBytes_naming_the_frame()
    {
        var options = KafkaTestKit.FreshOptions(maxMessageBytes: 4096);
        using var sink = new KafkaFrameSink(options, KafkaTestKit.Bootstrap);

        var ex = await Assert.ThrowsAsync<FrameTooLargeException>(
            () => sink.PublishAsync(KafkaTestKit.Metadata("cam-a", 3), new byte[4097], CancellationToken.None));

        Assert.Equal((new FrameKey("cam-a", 3), 4097, 4096), (ex.Frame, ex.Bytes, ex.MaxBytes));
        Assert.Contains("Kafka:MaxMessageBytes = 4096", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unacknowledged_frames_go_to_the_next_member_and_acknowledged_ones_never_do()
    {
        var options = KafkaTestKit.FreshOptions();
        const int perCamera = 12;
        using (var sink = new KafkaFrameSink(options, KafkaTestKit.Bootstrap))
        {
            for (var sequence = 0; sequence < perCamera; sequence++)
            {
                await sink.PublishAsync(KafkaTestKit.Metadata("cam-a", sequence), KafkaTestKit.Jpeg(sequence), CancellationToken.None);
                await sink.PublishAsync(KafkaTestKit.Metadata("cam-b", sequence), KafkaTestKit.Jpeg(sequence), CancellationToken.None);
            }
        }

        var first = new FrameCollector();
        await using (var feedA = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System))
        {
            _ = feedA.RunAsync(f =>
            {
                first.Add(f);
                if (f.Metadata.Sequence < perCamera / 2)
                {
                    feedA.Acknowledge(f.Receipt);
                }
            }, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => first.Count >= 2 * perCamera, Patience), $"feed A got {first.Count} frames");
            Assert.Equal(2 * (perCamera - (perCamera / 2)), feedA.InFlight);
        }

        var second = new FrameCollector();
        await using (var feedB = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System))
        {
            _ = feedB.RunAsync(f => { second.Add(f); feedB.Acknowledge(f.Receipt); }, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => second.Frames.Select(f => f.Metadata.Key).Distinct().Count() >= perCamera, Patience), $"feed B got {second.Count} frames");
            await Task.Delay(1000);
        }

        var expected = new[] { "cam-a", "cam-b" }.SelectMany(c => Enumerable.Range(perCamera / 2, perCamera / 2).Select(s => new FrameKey(c, s))).ToHashSet();
        Assert.True(second.Frames.All(f => expected.Contains(f.Metadata.Key)), "feed B got an acknowledged frame: " + string.Join(", ", second.Frames.Select(f => f.Metadata.Key)));
        Assert.Equal(expected, second.Frames.Select(f => f.Metadata.Key).ToHashSet());
    }

    [Fact]
    public async Task At_MaxInFlight_the_feed_pauses_until_frames_are_acknowledged()
    {
        var options = KafkaTestKit.FreshOptions(partitions: 2, maxInFlight: 4);
        using (var sink = new KafkaFrameSink(options, KafkaTestKit.Bootstrap))
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(s =>
                sink.PublishAsync(KafkaTestKit.Metadata(s % 2 == 0 ? "cam-a" : "cam-b", s), KafkaTestKit.Jpeg(s), CancellationToken.None)));
        }

        var collector = new FrameCollector();
        await using var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System);
        _ = feed.RunAsync(collector.Add, CancellationToken.None);

        Assert.True(await KafkaTestKit.Eventually(() => collector.Count >= 4, Patience), $"{collector.Count} frames arrived");
        await Task.Delay(1000);
        Assert.Equal(4, collector.Count);
        Assert.Equal(4, feed.InFlight);
        Assert.True(await KafkaTestKit.Eventually(() => feed.IsPaused, Patience), "a feed stuck at its bound pauses its partitions");

        feed.Acknowledge(collector.Frames[0].Receipt);
        feed.Acknowledge(collector.Frames[1].Receipt);
        feed.Acknowledge(collector.Frames[1].Receipt); // repeated: ignored

        Assert.True(await KafkaTestKit.Eventually(() => collector.Count >= 6, Patience), $"{collector.Count} frames arrived");
        await Task.Delay(500);
        Assert.Equal(6, collector.Count);
        Assert.Equal(4, feed.InFlight);
        Assert.Equal(6, collector.Frames.Select(f => f.Receipt).Distinct().Count());
    }

    [Fact]
    public async Task RunAsync_returns_at_once_and_completes_when_cancelled()
    {
        var options = KafkaTestKit.FreshOptions(partitions: 1);
        await using var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System);
        using var cts = new CancellationTokenSource();

        var run = feed.RunAsync(_ => { }, cts.Token);
        Assert.False(run.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => { _ = feed.RunAsync(_ => { }, CancellationToken.None); });

        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }
}

public sealed class KafkaFrameFeedThroughputTests
{
    [Fact]
    public async Task A_feed_at_its_in_flight_bound_keeps_flowing_as_fast_as_frames_are_acknowledged()
    {
        // A backlog much larger than MaxInFlight, acknowledged 20 ms after delivery: the feed pauses and
        // resumes hundreds of times. It must keep up with the acknowledgements (not stall on each resume).
        const int Frames = 1500;
        var options = KafkaTestKit.FreshOptions(partitions: 4, maxInFlight: 32);
        using (var sink = new KafkaFrameSink(options, KafkaTestKit.Bootstrap))
        {
            await Task.WhenAll(Enumerable.Range(0, Frames).Select(s =>
                sink.PublishAsync(KafkaTestKit.Metadata($"cam-{(char)('a' + (s % 2))}", s), KafkaTestKit.Jpeg(s % 16), CancellationToken.None)));
        }

        var delivered = 0;
        await using var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        _ = feed.RunAsync(
            frame =>
            {
                Interlocked.Increment(ref delivered);
                _ = Task.Delay(20).ContinueWith(_ => feed.Acknowledge(frame.Receipt), TaskScheduler.Default);
            },
            CancellationToken.None);

        Assert.True(await KafkaTestKit.Eventually(() => Volatile.Read(ref delivered) >= Frames, TimeSpan.FromSeconds(60)), $"{delivered} of {Frames} delivered");
        var rate = Frames / watch.Elapsed.TotalSeconds;
        // 32 in flight, 20 ms per acknowledgement: the bound allows ~1,600 frames/s; a stall per resume gives ~32/s
        Assert.True(rate > 200, $"{rate:0} frames/s");
    }
}
