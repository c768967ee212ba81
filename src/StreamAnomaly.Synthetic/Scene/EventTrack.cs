namespace StreamAnomaly.Synthetic.Scene;

/// <summary>An event on a time line: active for <c>Start &lt;= t &lt; End</c> (seconds).</summary>
internal interface ITimedEvent
{
    double Start { get; }

    double End { get; }
}

/// <summary>
/// A seeded, endless sequence of events with increasing start times, generated on demand:
/// event i is made by <c>make(random_i, previous)</c> with <c>random_i</c> seeded by (seed, stream, i),
/// so the sequence depends only on the seed. Caches what it made; not thread-safe.
/// </summary>
internal sealed class EventTrack<T>
    where T : ITimedEvent
{
    private readonly int _seed;
    private readonly SeedMix.Stream _stream;
    private readonly Func<Random, T?, T> _make;
    private readonly List<T> _events = [];

    public EventTrack(int seed, SeedMix.Stream stream, Func<Random, T?, T> make)
    {
        _seed = seed;
        _stream = stream;
        _make = make;
    }

    /// <summary>Events active at time t, in generation order.</summary>
    public IEnumerable<T> ActiveAt(double t)
    {
        while (_events.Count == 0 || _events[^1].Start <= t)
        {
            var previous = _events.Count == 0 ? default : _events[^1];
            _events.Add(_make(SeedMix.Random(_seed, _stream, _events.Count), previous));
        }

        return _events.Where(e => e.Start <= t && t < e.End);
    }
}
