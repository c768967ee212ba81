namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// Remembers which frames (camera, sequence) were already decided, so a frame redelivered by
/// Kafka (at-least-once) is never counted twice. Per camera it keeps the last
/// <c>window</c> sequence numbers exactly; anything at or below the largest forgotten one counts
/// as seen (sequences only grow while a camera runs, so such frames are late redeliveries).
/// </summary>
public sealed class SequenceDeduplicator(int window)
{
    private readonly Dictionary<string, CameraSeen> _cameras = new(StringComparer.Ordinal);

    /// <summary>True when the frame was marked before (or is older than everything remembered).</summary>
    public bool Seen(FrameKey key) =>
        _cameras.TryGetValue(key.Camera, out var seen) && (key.Sequence <= seen.Floor || seen.Set.Contains(key.Sequence));

    /// <summary>Marks the frame; returns false when it was already seen.</summary>
    public bool Mark(FrameKey key)
    {
        if (Seen(key))
        {
            return false;
        }

        if (!_cameras.TryGetValue(key.Camera, out var seen))
        {
            seen = new CameraSeen();
            _cameras[key.Camera] = seen;
        }

        seen.Set.Add(key.Sequence);
        seen.Order.Enqueue(key.Sequence);
        while (seen.Order.Count > window)
        {
            var old = seen.Order.Dequeue();
            seen.Set.Remove(old);
            seen.Floor = Math.Max(seen.Floor, old);
        }

        return true;
    }

    private sealed class CameraSeen
    {
        public HashSet<long> Set { get; } = [];

        public Queue<long> Order { get; } = new();

        public long Floor { get; set; } = long.MinValue;
    }
}
