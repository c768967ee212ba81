using System.Collections.Concurrent;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What the streaming demo watches: per-line state for the live view, alarms and latencies for the summary. Thread-safe.</summary>
internal sealed class DemoRecorder : IPipelineObserver
{
    private readonly ConcurrentDictionary<string, LineView> _lines = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<double> _latencies = new();
    private long _decided;

    public ConcurrentQueue<AlarmEvent> Alarms { get; } = new();

    /// <summary>Machine cycles the workers timed (detectors that track the cycle), in seconds.</summary>
    public ConcurrentQueue<double> Cycles { get; } = new();

    public long FramesDecided => Interlocked.Read(ref _decided);

    public IReadOnlyList<double> Latencies => [.. _latencies];

    public IReadOnlyDictionary<string, LineView> Lines => _lines;

    public void CameraStateChanged(string camera, string line, CameraState state) => View(line).CameraStates[camera] = state;

    public void BatchScored(int frames, TimeSpan took)
    {
    }

    public void FramesDropped(string reason, int count)
    {
    }

    public void PartialsResent(int count)
    {
    }

    public void FrameDecided(FrameDecided decided)
    {
        Interlocked.Increment(ref _decided);
        _latencies.Enqueue((decided.DecidedAt - decided.Fused.CaptureTime).TotalSeconds);
        var view = View(decided.Fused.Line);
        view.Scores[decided.Fused.Frame.Camera] = decided.Smoothed;
        Interlocked.Increment(ref view.Frames);
    }

    public void FramesLost(string camera, long count)
    {
    }

    public void CycleCompleted(string camera, string line, CycleRecord cycle) => Cycles.Enqueue(cycle.Duration.TotalSeconds);

    public void AlarmChanged(AlarmEvent alarm)
    {
        Alarms.Enqueue(alarm);
        View(alarm.Line).Active = alarm.Phase == AlarmPhase.Cleared ? null : alarm;
    }

    /// <summary>Percentile (0-100) of the capture-to-decision latencies in seconds, or NaN before any frame.</summary>
    public double LatencyPercentile(double percentile)
    {
        var sorted = Latencies.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : Percentiles.OfSorted(sorted, percentile);
    }

    private LineView View(string line) => _lines.GetOrAdd(line, static _ => new LineView());

    internal sealed class LineView
    {
        public long Frames;

        public ConcurrentDictionary<string, double> Scores { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, CameraState> CameraStates { get; } = new(StringComparer.Ordinal);

        public AlarmEvent? Active { get; set; }
    }
}
