using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Live;

/// <summary>One rendered frame of a <see cref="LiveRobotCell"/>.</summary>
/// <param name="Frame">The BGR frame.</param>
/// <param name="WallTime">The live time it was rendered for, seconds since the camera started.</param>
/// <param name="SceneTime">
/// The time on the normal scene's own clock: <c>WallTime</c> minus the time anomalous cycles that
/// ran slower (or faster) than normal added (or removed). Outside anomalous cycles the frame equals
/// the normal scene's frame at this time.
/// </param>
/// <param name="Cycle">The machine cycle running (normal scene numbering, 0-based).</param>
/// <param name="Anomaly">Name of the anomaly shown in this frame's scene, or null for the normal scene.</param>
public sealed record LiveFrame(Frame Frame, double WallTime, double SceneTime, int Cycle, string? Anomaly);

/// <summary>
/// The robot cell as an endless live scene with anomalies injected on demand: a pure state machine
/// over <see cref="RobotCellScene"/> driven by non-decreasing wall times (no clock inside, so it is
/// deterministic for the same seed, options, times and injections).
/// <para><see cref="Inject"/> queues an anomaly; at the next <see cref="Render"/> it is scheduled for
/// the next machine cycle k (the cycle after the one running): frames come from a scene built with
/// <c>AnomalySpec(kind, k)</c> until that scene's cycle k ends, then from the normal scene again, its
/// clock shifted by the anomalous cycle's extra duration so the motion continues without a jump. A
/// persistent effect (a dropped part on the floor, a stalled arm) therefore lasts one cycle.
/// Injections queued while one is pending or running take the cycles right after it, one each.</para>
/// <para>Thread-safe: <see cref="Inject"/> may be called from any thread while another renders.</para>
/// </summary>
public sealed class LiveRobotCell
{
    private readonly Lock _lock = new();
    private readonly Queue<AnomalyKind> _pending = new();
    private readonly RobotCellScene _normal;
    private RobotCellScene? _anomalous;
    private int _anomalousCycle = -1;
    private double _offset;
    private double _lastWallTime;

    /// <param name="seed">Scene seed.</param>
    /// <param name="options">What the scene shows; its <see cref="SceneOptions.Anomaly"/> must be null (anomalies come from <see cref="Inject"/>).</param>
    public LiveRobotCell(int seed, SceneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Anomaly is not null)
        {
            throw new ArgumentException("a live robot cell starts normal: inject anomalies with Inject, not SceneOptions.Anomaly", nameof(options));
        }

        Seed = seed;
        Options = options;
        _normal = new RobotCellScene(seed, options);
    }

    /// <summary>Names of the anomaly kinds (<see cref="AnomalySpec.NameOf"/>), in enum order.</summary>
    public static IReadOnlyList<string> AnomalyKinds { get; } = Enum.GetValues<AnomalyKind>().Select(AnomalySpec.NameOf).ToArray();

    /// <summary>The scene seed.</summary>
    public int Seed { get; }

    /// <summary>What the scene shows.</summary>
    public SceneOptions Options { get; }

    /// <summary>The kind named <paramref name="name"/>; <see cref="ArgumentException"/> listing the valid names otherwise.</summary>
    public static AnomalyKind ParseKind(string name)
    {
        foreach (var kind in Enum.GetValues<AnomalyKind>())
        {
            if (string.Equals(AnomalySpec.NameOf(kind), name, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        throw new ArgumentException($"unknown anomaly kind '{name}'; valid kinds: {string.Join(", ", AnomalyKinds)}", nameof(name));
    }

    /// <summary>Queues <paramref name="kind"/> for the next machine cycle (see the class remarks).</summary>
    public void Inject(AnomalyKind kind)
    {
        _ = AnomalySpec.NameOf(kind); // rejects values outside the enum
        lock (_lock)
        {
            _pending.Enqueue(kind);
        }
    }

    /// <summary>
    /// Renders the frame at wall time <paramref name="wallTime"/> seconds (&gt;= 0 and not before the
    /// previous call's) at <paramref name="width"/> x <paramref name="height"/> pixels (&gt;= 8).
    /// </summary>
    public LiveFrame Render(double wallTime, int width, int height)
    {
        lock (_lock)
        {
            if (!(wallTime >= _lastWallTime) || double.IsInfinity(wallTime))
            {
                throw new ArgumentOutOfRangeException(nameof(wallTime), wallTime, $"live time must be finite and not go backwards (last {_lastWallTime})");
            }

            _lastWallTime = wallTime;
            var sceneTime = wallTime - _offset;
            var justEnded = false;
            if (_anomalous is not null && sceneTime >= _anomalous.Schedule.End(_anomalousCycle))
            {
                // The anomalous cycle is over: continue on the normal scene's clock from its next cycle.
                _offset += _anomalous.Schedule.End(_anomalousCycle) - _normal.Schedule.End(_anomalousCycle);
                sceneTime = wallTime - _offset;
                _anomalous = null;
                _anomalousCycle = -1;
                justEnded = true;
            }

            var (cycle, _) = _normal.Schedule.At(Math.Max(0, sceneTime));
            if (_anomalous is null && _pending.TryDequeue(out var kind))
            {
                // Right after an anomalous cycle, a queued one takes the cycle that has just begun.
                _anomalousCycle = justEnded ? cycle : cycle + 1;
                _anomalous = new RobotCellScene(Seed, Options with { Anomaly = new AnomalySpec(kind, _anomalousCycle) });
            }

            var scene = _anomalous ?? _normal;
            // While the anomalous scene runs, its own schedule numbers the cycle (identical before cycle k).
            if (_anomalous is not null)
            {
                cycle = _anomalous.Schedule.At(Math.Max(0, sceneTime)).Cycle;
            }

            using var canvas = scene.RenderCanvas(Math.Max(0, sceneTime), width, height, overlay: null);
            var frame = scene.Finish(canvas, Math.Max(0, sceneTime));
            return new LiveFrame(frame, wallTime, sceneTime, cycle, _anomalous?.Options.Anomaly is { } spec ? AnomalySpec.NameOf(spec.Kind) : null);
        }
    }
}
