namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// Remembers which frames (camera, sequence) were already decided, so a frame redelivered by
/// Kafka (at-least-once) is never counted twice. Per camera it keeps the <c>window</c> highest
/// sequence numbers marked, exactly; anything at or below the highest number it let go (the
/// floor) counts as seen (sequences only grow while a camera runs, so such frames are late
/// redeliveries).
/// </summary>
/// <remarks>
/// When the window is full the lowest number is let go, not the oldest: so the floor only rises
/// through numbers below at least <c>window</c> others that were marked. One number far ahead of
/// its camera's (a forged or corrupt frame that got this far) stays in the window and never
/// becomes the floor, so the camera's genuine frames below it are still decided.
/// </remarks>
public sealed class SequenceDeduplicator(int window)
{
    private readonly Dictionary<string, CameraSeen> _cameras = new(StringComparer.Ordinal);

    /// <summary>True when the frame was marked before (or is at or below the camera's floor).</summary>
    public bool Seen(FrameKey key) =>
        _cameras.TryGetValue(key.Camera, out var seen) && (key.Sequence <= seen.Floor || seen.Window.Contains(key.Sequence));

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

        seen.Window.Add(key.Sequence);
        if (seen.Window.Count > window)
        {
            var lowest = seen.Window.Min;
            seen.Window.Remove(lowest);
            seen.Floor = lowest;
        }

        return true;
    }

    /// <summary>The cameras with a marked frame.</summary>
    public IEnumerable<string> Cameras => _cameras.Keys;

    /// <summary>A camera's floor and the marked numbers above it, ascending (<see cref="long.MinValue"/> and none when nothing was marked).</summary>
    public (long Floor, IReadOnlyList<long> Window) Export(string camera) =>
        _cameras.TryGetValue(camera, out var seen) ? (seen.Floor, seen.Window.ToArray()) : (long.MinValue, []);

    /// <summary>Sets a camera's memory to what <see cref="Export"/> gave; at most the window's size of numbers are kept (the lowest become the floor).</summary>
    public void Import(string camera, long floor, IEnumerable<long> marked)
    {
        ArgumentNullException.ThrowIfNull(marked);
        var seen = new CameraSeen { Floor = floor };
        _cameras[camera] = seen;
        foreach (var sequence in marked)
        {
            Mark(new FrameKey(camera, sequence));
        }
    }

    private sealed class CameraSeen
    {
        public SortedSet<long> Window { get; } = [];

        public long Floor { get; set; } = long.MinValue;
    }
}
