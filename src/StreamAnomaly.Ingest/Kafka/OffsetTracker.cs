namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// Which consumer positions may be committed, given the offsets delivered to the application and
/// the (out-of-order) acknowledgements that came back. Pure bookkeeping, not thread-safe: the
/// feed calls it under its own lock.
/// </summary>
/// <remarks>
/// Per partition it keeps the set of pending (delivered, not yet acknowledged) offsets, the
/// acknowledged offsets above the first pending one, and a floor: the highest offset such that it
/// and every delivered offset below it were acknowledged. The committable position is floor + 1
/// (Kafka commits name the next offset to read). Invariants: floor &lt; every pending offset, so
/// a committed position never passes an unacknowledged delivered offset; once every delivered
/// offset is acknowledged the position is the highest delivered offset + 1. Deliveries at or
/// below the floor or already known, and acknowledgements of unknown, repeated or forgotten
/// offsets are ignored. Memory is O(pending + acknowledged-above-the-first-pending).
/// </remarks>
public sealed class OffsetTracker
{
    private readonly Dictionary<int, PartitionState> _partitions = [];

    /// <summary>Offsets delivered and not yet acknowledged, over all partitions.</summary>
    public int Pending => _partitions.Values.Sum(static p => p.Pending.Count);

    /// <summary>Records that <paramref name="offset"/> of <paramref name="partition"/> was delivered; false when ignored (already known or below the floor).</summary>
    public bool Deliver(int partition, long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (!_partitions.TryGetValue(partition, out var state))
        {
            state = new PartitionState();
            _partitions.Add(partition, state);
        }

        if (offset <= state.Floor || state.Acknowledged.Contains(offset))
        {
            return false;
        }

        return state.Pending.Add(offset);
    }

    /// <summary>Acknowledges a delivered offset; false (and nothing changes) when it was not pending.</summary>
    public bool Acknowledge(int partition, long offset)
    {
        if (!_partitions.TryGetValue(partition, out var state) || !state.Pending.Remove(offset))
        {
            return false;
        }

        state.Acknowledged.Add(offset);
        var firstPending = state.Pending.Count > 0 ? state.Pending.Min : long.MaxValue;
        while (state.Acknowledged.Count > 0 && state.Acknowledged.Min < firstPending)
        {
            state.Floor = state.Acknowledged.Min;
            state.Acknowledged.Remove(state.Floor);
        }

        return true;
    }

    /// <summary>True when <paramref name="offset"/> of <paramref name="partition"/> is delivered and not acknowledged.</summary>
    public bool IsPending(int partition, long offset) =>
        _partitions.TryGetValue(partition, out var state) && state.Pending.Contains(offset);

    /// <summary>
    /// For each partition with at least one acknowledged prefix: the position to commit (highest
    /// offset such that it and all delivered offsets below it were acknowledged, + 1).
    /// </summary>
    public IReadOnlyDictionary<int, long> CommittablePositions()
    {
        var positions = new Dictionary<int, long>();
        foreach (var (partition, state) in _partitions)
        {
            if (state.Floor >= 0)
            {
                positions.Add(partition, state.Floor + 1);
            }
        }

        return positions;
    }

    /// <summary>Forgets a partition (revoked or lost): its pending offsets no longer count and later acknowledgements of them are ignored.</summary>
    public void Forget(int partition) => _partitions.Remove(partition);

    private sealed class PartitionState
    {
        public long Floor { get; set; } = -1;

        public SortedSet<long> Pending { get; } = [];

        public SortedSet<long> Acknowledged { get; } = [];
    }
}
