namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// When each pick-and-place cycle starts. Cycle k (k &gt;= 0) lasts
/// <c>BaseDuration * (1 + j_k) * f_k</c> seconds, where the jitter j_k is uniform in
/// [-<see cref="Jitter"/>, +<see cref="Jitter"/>] from a seeded stream of its own (so it depends on
/// (seed, k) only) and f_k is 1 except for one optional cycle whose speed is changed (an anomaly).
/// Cycle 0 starts at t = 0. A pure function of its arguments; caches starts, not thread-safe.
/// </summary>
public sealed class CycleSchedule
{
    private readonly int _seed;
    private readonly int _scaledCycle;
    private readonly double _scale;
    private readonly List<double> _starts = [0.0];

    /// <param name="seed">Clip seed.</param>
    /// <param name="baseDuration">Nominal cycle duration in seconds (&gt; 0).</param>
    /// <param name="jitter">Maximum relative jitter, in [0, 0.5).</param>
    /// <param name="scaledCycle">The cycle whose duration is multiplied by <paramref name="scale"/>, or -1 for none.</param>
    /// <param name="scale">Duration factor of <paramref name="scaledCycle"/> (e.g. 0.6 too fast, 1.6 too slow).</param>
    public CycleSchedule(int seed, double baseDuration = 6.0, double jitter = 0.06, int scaledCycle = -1, double scale = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(baseDuration);
        if (jitter is < 0 or >= 0.5)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "jitter must be in [0, 0.5)");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        _seed = seed;
        BaseDuration = baseDuration;
        Jitter = jitter;
        _scaledCycle = scaledCycle;
        _scale = scale;
    }

    /// <summary>Nominal cycle duration, seconds.</summary>
    public double BaseDuration { get; }

    /// <summary>Maximum relative jitter of a cycle's duration.</summary>
    public double Jitter { get; }

    /// <summary>Duration of cycle <paramref name="cycle"/> in seconds.</summary>
    public double Duration(int cycle)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cycle);
        var jitter = SeedMix.Random(_seed, SeedMix.Stream.Cycle, cycle).Uniform(-Jitter, Jitter);
        return BaseDuration * (1 + jitter) * (cycle == _scaledCycle ? _scale : 1.0);
    }

    /// <summary>Start time of cycle <paramref name="cycle"/> in seconds.</summary>
    public double Start(int cycle)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cycle);
        while (_starts.Count <= cycle)
        {
            _starts.Add(_starts[^1] + Duration(_starts.Count - 1));
        }

        return _starts[cycle];
    }

    /// <summary>End time (= start of the next cycle) of cycle <paramref name="cycle"/>.</summary>
    public double End(int cycle) => Start(cycle + 1);

    /// <summary>The cycle running at time <paramref name="t"/> (&gt;= 0) and the phase within it, in [0, 1).</summary>
    public (int Cycle, double Phase) At(double t)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        var k = 0;
        while (End(k) <= t)
        {
            k++;
        }

        return (k, (t - Start(k)) / Duration(k));
    }
}
