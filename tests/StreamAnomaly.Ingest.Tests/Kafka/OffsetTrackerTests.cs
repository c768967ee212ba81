using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

/// <summary>Delivered offsets of a few partitions (increasing, with gaps) and acknowledgements of some of them in random order.</summary>
public sealed record TrackerScenario(Dictionary<int, long[]> Delivered, (int Partition, long Offset)[] Acks)
{
    public override string ToString() =>
        string.Join("; ", Delivered.Select(p => $"p{p.Key}: [{string.Join(",", p.Value)}]")) + " acks " + string.Join(",", Acks.Select(a => $"{a.Partition}:{a.Offset}"));
}

public static class TrackerArbitrary
{
    public static Arbitrary<TrackerScenario> Scenario() =>
        (from partitions in Gen.Choose(1, 3)
         from offsets in Gen.ArrayOf(DeliveredGen(), partitions)
         let delivered = offsets.Select((o, i) => (i, o)).ToDictionary(p => p.i, p => p.o)
         let all = delivered.SelectMany(p => p.Value.Select(o => (p.Key, o))).ToArray()
         from mask in Gen.ArrayOf(Gen.Elements(true, false), all.Length)
         from order in Gen.Shuffle(all.Where((_, i) => mask[i]).ToArray())
         select new TrackerScenario(delivered, [.. order]))
        .ToArbitrary();

    private static Gen<long[]> DeliveredGen() =>
        from start in Gen.Choose(0, 5)
        from gaps in Gen.ListOf(Gen.Choose(1, 3))
        select gaps.Aggregate(new List<long> { start }, (list, gap) => { list.Add(list[^1] + gap); return list; }).ToArray();
}

public sealed class OffsetTrackerTests
{
    [Property(Arbitrary = [typeof(TrackerArbitrary)])]
    public bool Never_commits_past_an_unacknowledged_delivered_offset(TrackerScenario scenario)
    {
        var tracker = Run(scenario);
        var acked = scenario.Acks.ToHashSet();
        return tracker.CommittablePositions().All(p =>
            scenario.Delivered[p.Key].Where(o => o < p.Value).All(o => acked.Contains((p.Key, o))));
    }

    [Property(Arbitrary = [typeof(TrackerArbitrary)])]
    public bool Commits_the_end_of_the_longest_acknowledged_prefix(TrackerScenario scenario)
    {
        var tracker = Run(scenario);
        var acked = scenario.Acks.ToHashSet();
        var expected = new Dictionary<int, long>();
        foreach (var (partition, offsets) in scenario.Delivered)
        {
            var prefix = offsets.TakeWhile(o => acked.Contains((partition, o))).ToArray();
            if (prefix.Length > 0)
            {
                expected[partition] = prefix[^1] + 1;
            }
        }

        var actual = tracker.CommittablePositions();
        return actual.Count == expected.Count && expected.All(e => actual.TryGetValue(e.Key, out var v) && v == e.Value);
    }

    [Property(Arbitrary = [typeof(TrackerArbitrary)])]
    public bool Commits_everything_once_all_are_acknowledged(TrackerScenario scenario)
    {
        var tracker = new OffsetTracker();
        foreach (var (partition, offsets) in scenario.Delivered)
        {
            foreach (var offset in offsets)
            {
                tracker.Deliver(partition, offset);
            }
        }

        foreach (var (partition, offsets) in scenario.Delivered)
        {
            foreach (var offset in offsets.Reverse())
            {
                tracker.Acknowledge(partition, offset);
            }
        }

        var positions = tracker.CommittablePositions();
        return tracker.Pending == 0
            && scenario.Delivered.All(p => positions[p.Key] == p.Value[^1] + 1);
    }

    [Property(Arbitrary = [typeof(TrackerArbitrary)])]
    public bool Unknown_and_repeated_acknowledgements_change_nothing(TrackerScenario scenario)
    {
        var tracker = Run(scenario);
        var before = tracker.CommittablePositions().ToDictionary();
        var pending = tracker.Pending;

        var repeatedIgnored = scenario.Acks.All(a => !tracker.Acknowledge(a.Partition, a.Offset));
        var unknownIgnored = !tracker.Acknowledge(99, 0)
            && scenario.Delivered.All(p => !tracker.Acknowledge(p.Key, p.Value[^1] + 1000));

        var after = tracker.CommittablePositions();
        return repeatedIgnored && unknownIgnored && tracker.Pending == pending
            && after.Count == before.Count && before.All(b => after[b.Key] == b.Value);
    }

    [Fact]
    public void Forget_drops_a_partition_and_ignores_its_later_acknowledgements()
    {
        var tracker = new OffsetTracker();
        tracker.Deliver(0, 10);
        tracker.Deliver(0, 11);
        tracker.Deliver(1, 5);
        tracker.Acknowledge(0, 10);

        tracker.Forget(0);

        Assert.False(tracker.Acknowledge(0, 11));
        Assert.Equal(1, tracker.Pending);
        Assert.Empty(tracker.CommittablePositions());
    }

    [Fact]
    public void Out_of_order_acknowledgements_commit_only_up_to_the_first_gap()
    {
        var tracker = new OffsetTracker();
        foreach (var offset in new long[] { 3, 4, 5, 6 })
        {
            tracker.Deliver(0, offset);
        }

        tracker.Acknowledge(0, 5);
        tracker.Acknowledge(0, 3);
        Assert.Equal(4, tracker.CommittablePositions()[0]);

        tracker.Acknowledge(0, 4);
        Assert.Equal(6, tracker.CommittablePositions()[0]);
        Assert.False(tracker.Deliver(0, 4)); // below the committed floor: ignored
    }

    private static OffsetTracker Run(TrackerScenario scenario)
    {
        var tracker = new OffsetTracker();
        foreach (var (partition, offsets) in scenario.Delivered)
        {
            foreach (var offset in offsets)
            {
                Assert.True(tracker.Deliver(partition, offset));
            }
        }

        foreach (var (partition, offset) in scenario.Acks)
        {
            Assert.True(tracker.Acknowledge(partition, offset));
        }

        return tracker;
    }
}
