namespace StreamAnomaly.Core.Streaming;

/// <summary>Something a line aggregator decided; the actor turns these into replies, metrics and Kafka messages.</summary>
public abstract record LineEvent;

/// <summary>The frame is done with at the aggregator: its worker may commit it. <paramref name="Duplicate"/>: it was decided before.</summary>
public sealed record FrameAccepted(FrameKey Frame, bool Duplicate) : LineEvent;

/// <summary>A frame's fused score, its camera's smoothed score and when the decision was taken.</summary>
public sealed record FrameDecided(FusedFrame Fused, double Smoothed, DateTimeOffset DecidedAt) : LineEvent;

/// <summary>An alarm of the line was raised, updated or cleared.</summary>
public sealed record AlarmChanged(AlarmEvent Alarm) : LineEvent;

/// <summary>
/// The frame's sequence number is one its camera cannot have produced (<see cref="CameraSequences"/>):
/// it is acknowledged (a <see cref="FrameAccepted"/> comes with it) but never decided.
/// </summary>
public sealed record FrameRefused(FrameKey Frame, string Reason) : LineEvent;

/// <summary><paramref name="Count"/> frame numbers of <paramref name="Camera"/> were skipped: those frames will never be decided.</summary>
public sealed record FramesLost(string Camera, long Count) : LineEvent;

/// <summary>
/// Everything a line aggregator knows, as a deterministic state machine without I/O: partial
/// results in, events out, time passed in (DESIGN.md rule 3). Pipeline per frame: deduplicate by
/// (camera, sequence) -> refuse a number its camera cannot have produced and count skipped
/// numbers as lost (<see cref="CameraSequences"/>) -> join the partials of every detector (or time out) -> fuse
/// (<see cref="FrameFusion"/>) -> smooth per camera (exponential) -> debounce (k of n hot frames
/// of one camera, minimum duration) -> alarm lifecycle with hysteresis (raise at
/// RaiseThreshold, clear after ClearAfter below ClearThreshold). Not thread-safe: one actor owns it.
/// </summary>
public sealed class LineAggregation
{
    private readonly AggregationOptions _options;
    private readonly SequenceDeduplicator _decided;
    private readonly CameraSequences _sequences;
    private readonly Dictionary<FrameKey, PendingFrame> _pending = [];
    private readonly Dictionary<string, CameraTrack> _cameras = new(StringComparer.Ordinal);
    private AlarmTrack? _alarm;
    private DateTimeOffset _lastWarm = DateTimeOffset.MinValue;

    /// <param name="line">The production line.</param>
    /// <param name="options">Validated aggregation options.</param>
    /// <param name="cameraFps">
    /// Configured frame rate of each camera of the line, for the sequence plausibility check; a
    /// camera not listed (or no map) is checked against <see cref="CameraOptions.MaxFps"/>.
    /// </param>
    public LineAggregation(string line, AggregationOptions options, IReadOnlyDictionary<string, double>? cameraFps = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        Line = line;
        _options = options;
        _decided = new SequenceDeduplicator(options.DeduplicationWindow);
        _sequences = new CameraSequences(camera => cameraFps is not null && cameraFps.TryGetValue(camera, out var fps) ? fps : CameraOptions.MaxFps);
    }

    /// <summary>The production line this state belongs to.</summary>
    public string Line { get; }

    /// <summary>Frames waiting for more partial results.</summary>
    public int Pending => _pending.Count;

    /// <summary>The active alarm, or null.</summary>
    public AlarmEvent? ActiveAlarm => _alarm?.Last;

    /// <summary>Takes one partial result; returns what follows from it.</summary>
    public IReadOnlyList<LineEvent> Apply(PartialResult partial, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(partial);
        if (partial.Line != Line)
        {
            throw new ArgumentException($"partial for line '{partial.Line}' sent to line '{Line}'", nameof(partial));
        }

        if (_decided.Seen(partial.Frame))
        {
            return [new FrameAccepted(partial.Frame, Duplicate: true)];
        }

        if (!_pending.TryGetValue(partial.Frame, out var pending))
        {
            if (_sequences.Check(partial.Frame, partial.CaptureTime, now) is { } implausible)
            {
                return [new FrameAccepted(partial.Frame, Duplicate: false), new FrameRefused(partial.Frame, implausible)];
            }

            pending = new PendingFrame(now, Math.Max(1, partial.Detectors));
            _pending[partial.Frame] = pending;
        }

        if (pending.Partials.Any(p => p.Detector == partial.Detector))
        {
            return [new FrameAccepted(partial.Frame, Duplicate: true)];
        }

        pending.Partials.Add(partial);
        if (pending.Partials.Count < pending.Expected)
        {
            return [];
        }

        _pending.Remove(partial.Frame);
        var events = new List<LineEvent>();
        Decide(pending, complete: true, now, events);
        return events;
    }

    /// <summary>Fuses the frames whose join timed out (fewer partials than expected).</summary>
    public IReadOnlyList<LineEvent> Tick(DateTimeOffset now)
    {
        var due = _pending.Where(p => now - p.Value.FirstArrival >= _options.JoinTimeout)
            .OrderBy(static p => p.Value.FirstArrival).ThenBy(static p => p.Key.Sequence).ToList();
        var events = new List<LineEvent>();
        foreach (var (key, pending) in due)
        {
            _pending.Remove(key);
            Decide(pending, complete: false, now, events);
        }

        return events;
    }

    /// <summary>
    /// Redoes a decision read back from the line's journal (or any decision of this line): the
    /// state changes as when the frame was decided; returns the alarm events it caused (the
    /// journal's reader needs them to know which alarm events may still be unpublished). A frame
    /// already decided (a snapshot that includes it, a journal entry written twice) changes nothing.
    /// </summary>
    public IReadOnlyList<AlarmEvent> Replay(LineDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (_decided.Seen(decision.Frame))
        {
            return [];
        }

        var events = new List<LineEvent>();
        Record(decision.Frame, decision.CaptureTime, decision.Score, events);
        return [.. events.OfType<AlarmChanged>().Select(static e => e.Alarm)];
    }

    /// <summary>Everything this state remembers between frames (not the frames waiting for partial results).</summary>
    public LineSnapshot Snapshot()
    {
        var cameras = _cameras.Keys.Order(StringComparer.Ordinal).Select(camera =>
        {
            var (floor, window) = _decided.Export(camera);
            var highest = _sequences.Highest(camera) ?? throw new InvalidOperationException($"camera {camera} has a track but no decided frame");
            var track = _cameras[camera];
            return new CameraSnapshot(camera, floor, window, highest.Sequence, highest.CaptureTime, track.Smoothed ?? 0, [.. track.Recent]);
        });
        return new LineSnapshot([.. cameras], _alarm?.Last, _alarm?.Peak ?? 0, _lastWarm);
    }

    /// <summary>Replaces this state's memory with <paramref name="snapshot"/> (frames waiting for partial results are kept).</summary>
    public void Restore(LineSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Alarm is { } alarm && alarm.Line != Line)
        {
            throw new ArgumentException($"snapshot of line '{alarm.Line}' restored into line '{Line}'", nameof(snapshot));
        }

        _cameras.Clear();
        foreach (var camera in snapshot.Cameras)
        {
            _decided.Import(camera.Camera, camera.Floor, camera.Window);
            _sequences.Restore(camera.Camera, camera.Highest, camera.HighestCapture);
            var track = new CameraTrack { Smoothed = camera.Smoothed };
            foreach (var recent in camera.Recent.TakeLast(_options.RaiseWindow))
            {
                track.Recent.Enqueue(recent);
            }

            _cameras[camera.Camera] = track;
        }

        _alarm = snapshot.Alarm is { } last ? new AlarmTrack(last) { Peak = snapshot.AlarmPeak } : null;
        _lastWarm = snapshot.LastWarm;
    }

    private void Decide(PendingFrame pending, bool complete, DateTimeOffset now, List<LineEvent> events)
    {
        var fused = FrameFusion.Fuse(pending.Partials, complete);
        Record(fused.Frame, fused.CaptureTime, fused.Score, events, smoothed => new FrameDecided(fused, smoothed, now));
    }

    /// <summary>
    /// The state change of one decided frame: marks it decided, counts the numbers its camera
    /// skipped, smooths, debounces and moves the alarm. Events in order: frames lost, frame
    /// accepted, <paramref name="decided"/>'s event (given the smoothed score), alarm changed.
    /// </summary>
    private void Record(FrameKey frame, DateTimeOffset captureTime, double score, List<LineEvent> events, Func<double, LineEvent>? decided = null)
    {
        _decided.Mark(frame);
        var camera = frame.Camera;
        var lost = _sequences.Decided(frame, captureTime);
        if (lost > 0)
        {
            events.Add(new FramesLost(camera, lost));
        }

        if (!_cameras.TryGetValue(camera, out var track))
        {
            track = new CameraTrack();
            _cameras[camera] = track;
        }

        var smoothed = track.Smoothed is { } previous
            ? (_options.SmoothingAlpha * score) + ((1 - _options.SmoothingAlpha) * previous)
            : score;
        track.Smoothed = smoothed;
        track.Recent.Enqueue(new RecentFrame(smoothed >= _options.RaiseThreshold, captureTime));
        while (track.Recent.Count > _options.RaiseWindow)
        {
            track.Recent.Dequeue();
        }

        events.Add(new FrameAccepted(frame, Duplicate: false));
        if (decided is not null)
        {
            events.Add(decided(smoothed));
        }

        UpdateAlarm(frame, captureTime, smoothed, track, events);
    }

    private void UpdateAlarm(FrameKey frame, DateTimeOffset at, double smoothed, CameraTrack track, List<LineEvent> events)
    {
        var hot = smoothed >= _options.RaiseThreshold;
        if (_alarm is null)
        {
            if (smoothed >= _options.ClearThreshold)
            {
                _lastWarm = Max(_lastWarm, at);
            }

            var hits = track.Recent.Where(static r => r.Hot).Select(static r => r.At).ToList();
            if (hot && hits.Count >= _options.RaiseHits && hits.Max() - hits.Min() >= _options.MinDuration)
            {
                var id = $"{Line}:{frame.Camera}:{frame.Sequence}";
                _alarm = new AlarmTrack(new AlarmEvent(Line, id, AlarmPhase.Raised, 0, at, smoothed, [frame.Camera]));
                events.Add(new AlarmChanged(_alarm.Last));
            }

            return;
        }

        if (smoothed >= _options.ClearThreshold)
        {
            _lastWarm = Max(_lastWarm, at);
        }

        var last = _alarm.Last;
        if (hot)
        {
            var newCamera = !last.Cameras.Contains(frame.Camera, StringComparer.Ordinal);
            var peak = Math.Max(last.PeakScore, smoothed);
            _alarm.Peak = peak;
            if (newCamera || peak >= last.PeakScore + _options.UpdateDelta)
            {
                var cameras = newCamera ? last.Cameras.Append(frame.Camera).Order(StringComparer.Ordinal).ToArray() : last.Cameras;
                _alarm.Last = last with { Phase = AlarmPhase.Updated, Revision = last.Revision + 1, At = at, PeakScore = peak, Cameras = cameras };
                events.Add(new AlarmChanged(_alarm.Last));
            }
        }
        else if (smoothed < _options.ClearThreshold && at - _lastWarm >= _options.ClearAfter)
        {
            events.Add(new AlarmChanged(last with { Phase = AlarmPhase.Cleared, Revision = last.Revision + 1, At = at, PeakScore = Math.Max(last.PeakScore, _alarm.Peak) }));
            _alarm = null;
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class PendingFrame(DateTimeOffset firstArrival, int expected)
    {
        public DateTimeOffset FirstArrival { get; } = firstArrival;

        public int Expected { get; } = expected;

        public List<PartialResult> Partials { get; } = [];
    }

    private sealed class CameraTrack
    {
        public double? Smoothed { get; set; }

        public Queue<RecentFrame> Recent { get; } = new();
    }

    private sealed class AlarmTrack(AlarmEvent raised)
    {
        public AlarmEvent Last { get; set; } = raised;

        public double Peak { get; set; } = raised.PeakScore;
    }
}
