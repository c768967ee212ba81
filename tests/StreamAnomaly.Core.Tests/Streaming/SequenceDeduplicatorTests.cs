using FsCheck.Xunit;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Core.Tests.Streaming;

public sealed class SequenceDeduplicatorTests
{
    [Fact]
    public void A_frame_is_new_once_and_a_duplicate_afterwards()
    {
        var dedup = new SequenceDeduplicator(16);
        Assert.True(dedup.Mark(new FrameKey("a", 5)));
        Assert.False(dedup.Mark(new FrameKey("a", 5)));
        Assert.True(dedup.Mark(new FrameKey("b", 5)));
    }

    [Fact]
    public void Frames_older_than_the_window_count_as_seen()
    {
        var dedup = new SequenceDeduplicator(16);
        for (var s = 100; s < 120; s++)
        {
            dedup.Mark(new FrameKey("a", s));
        }

        Assert.True(dedup.Seen(new FrameKey("a", 3)));
        Assert.True(dedup.Seen(new FrameKey("a", 103)));
        Assert.False(dedup.Seen(new FrameKey("a", 120)));
    }

    [Property]
    public bool Marking_any_sequence_twice_reports_the_second_as_a_duplicate(long[] sequences)
    {
        var dedup = new SequenceDeduplicator(1 << 20);
        var firsts = sequences.Select(s => dedup.Mark(new FrameKey("c", s))).ToArray();
        return firsts.Count(static f => f) == sequences.Distinct().Count() && sequences.All(s => !dedup.Mark(new FrameKey("c", s)));
    }

    [Fact]
    public void A_number_far_ahead_never_becomes_the_floor()
    {
        var dedup = new SequenceDeduplicator(16);
        dedup.Mark(new FrameKey("a", 9_100_000_000_000_000_000));
        for (var s = 0; s < 100; s++)
        {
            Assert.True(dedup.Mark(new FrameKey("a", s)), $"frame {s} counted as seen");
        }
    }
}
