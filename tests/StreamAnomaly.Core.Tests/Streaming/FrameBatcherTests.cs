using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Core.Tests.Streaming;

public sealed class FrameBatcherTests
{
    private static readonly DateTimeOffset T0 = StreamingTestData.T0;

    private static FrameBatcher<FrameKey> Batcher(int max = 3, int perLive = 2, params string[] live) =>
        new(new BatchingOptions(max, TimeSpan.FromMilliseconds(50), perLive), static k => k, c => live.Contains(c));

    [Fact]
    public void A_full_batch_is_ready_at_once_in_arrival_order()
    {
        var batcher = Batcher();
        batcher.Enqueue(new FrameKey("a", 1), T0);
        batcher.Enqueue(new FrameKey("b", 1), T0);
        Assert.Empty(batcher.TakeReady(T0));
        batcher.Enqueue(new FrameKey("a", 2), T0);
        Assert.Equal([new FrameKey("a", 1), new FrameKey("b", 1), new FrameKey("a", 2)], batcher.TakeReady(T0));
        Assert.Equal(0, batcher.Count);
    }

    [Fact]
    public void A_partial_batch_is_released_after_the_wait()
    {
        var batcher = Batcher();
        batcher.Enqueue(new FrameKey("a", 1), T0);
        Assert.Equal(TimeSpan.FromMilliseconds(30), batcher.DueIn(T0.AddMilliseconds(20)));
        Assert.Empty(batcher.TakeReady(T0.AddMilliseconds(49)));
        Assert.Single(batcher.TakeReady(T0.AddMilliseconds(50)));
        Assert.Null(batcher.DueIn(T0));
    }

    [Fact]
    public void A_live_camera_that_falls_behind_keeps_only_its_newest_frames()
    {
        var batcher = Batcher(max: 10, perLive: 2, "live");
        batcher.Enqueue(new FrameKey("live", 1), T0);
        batcher.Enqueue(new FrameKey("file", 1), T0);
        batcher.Enqueue(new FrameKey("live", 2), T0);
        var dropped = batcher.Enqueue(new FrameKey("live", 3), T0);
        Assert.Equal([new FrameKey("live", 1)], dropped);
        Assert.Empty(batcher.Enqueue(new FrameKey("file", 2), T0));
        Assert.Empty(batcher.Enqueue(new FrameKey("file", 3), T0));
        Assert.Equal(
            [new FrameKey("file", 1), new FrameKey("live", 2), new FrameKey("live", 3), new FrameKey("file", 2), new FrameKey("file", 3)],
            batcher.TakeReady(T0.AddSeconds(1)));
    }
}
