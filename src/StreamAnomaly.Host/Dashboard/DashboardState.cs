using System.Buffers;
using System.Text.Json;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Host.Dashboard;

/// <summary>
/// What the live dashboard shows, kept in memory and safe to use from any thread: per camera the
/// latest decided frame (score, smoothed score, residual and ignore grids), its state and its
/// latest JPEG (throttled); per line the active alarm, recent alarm events and a timeline of the
/// per-second maximum smoothed score and of alarm spans over <see cref="TimelineWindow"/>.
/// Fed as an <see cref="IPipelineObserver"/> (the aggregator's decisions) and through
/// <see cref="OfferFrame"/> (the frames topic).
/// </summary>
public sealed class DashboardState : IPipelineObserver
{
    /// <summary>Recent alarm events kept per line.</summary>
    public const int MaxEvents = 20;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly AggregationOptions _aggregation;
    private readonly Dictionary<string, CameraView> _cameras = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LineView> _lines = new(StringComparer.Ordinal);
    private readonly AlarmEvidenceStore _evidence;

    /// <param name="cameraLines">The plant's cameras (camera id -> line id): each gets a tile from the start.</param>
    /// <param name="time">Clock of the frame throttle and of the timeline window.</param>
    /// <param name="aggregation">The lines' thresholds (drawn on the timeline).</param>
    /// <param name="frameInterval">Shortest time between two kept JPEGs of one camera (default 500 ms).</param>
    /// <param name="timelineWindow">How far back the timeline reaches (default 5 minutes).</param>
    /// <param name="evidence">Where raised alarms' evidence is kept (default: the 100 newest, at most 32 MiB).</param>
    public DashboardState(IReadOnlyDictionary<string, string> cameraLines, TimeProvider time, AggregationOptions? aggregation = null, TimeSpan? frameInterval = null, TimeSpan? timelineWindow = null, AlarmEvidenceStore? evidence = null)
    {
        _evidence = evidence ?? new AlarmEvidenceStore(100, 32L << 20);
        ArgumentNullException.ThrowIfNull(cameraLines);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _aggregation = aggregation ?? AggregationOptions.Default;
        FrameInterval = frameInterval ?? TimeSpan.FromMilliseconds(500);
        TimelineWindow = timelineWindow ?? TimeSpan.FromMinutes(5);
        foreach (var (camera, line) in cameraLines.OrderBy(static p => p.Value, StringComparer.Ordinal).ThenBy(static p => p.Key, StringComparer.Ordinal))
        {
            _cameras[camera] = new CameraView(camera, line);
            Line(line);
        }
    }

    public TimeSpan FrameInterval { get; }

    public TimeSpan TimelineWindow { get; }

    /// <summary>
    /// Offers a camera's newest JPEG; kept (and its version bumped) unless one was kept less than
    /// <see cref="FrameInterval"/> ago. Unknown cameras are ignored. Returns whether it was kept.
    /// </summary>
    public bool OfferFrame(FrameMetadata metadata, byte[] jpeg)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(jpeg);
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (!_cameras.TryGetValue(metadata.Camera, out var camera))
            {
                return false;
            }

            if (camera.Jpeg is not null && _time.GetElapsedTime(camera.JpegAt, now) < FrameInterval)
            {
                return false;
            }

            camera.Jpeg = jpeg;
            camera.JpegAt = now;
            camera.JpegSequence = metadata.Sequence;
            camera.JpegCaptured = metadata.CaptureTime;
            camera.Width = metadata.Width;
            camera.Height = metadata.Height;
            camera.FrameVersion++;
            return true;
        }
    }

    /// <summary>The latest kept JPEG of a camera and its version, or null when none yet.</summary>
    public (byte[] Jpeg, long Version)? LatestFrame(string camera)
    {
        lock (_gate)
        {
            return _cameras.TryGetValue(camera, out var view) && view.Jpeg is { } jpeg ? (jpeg, view.FrameVersion) : null;
        }
    }

    public void CameraStateChanged(string camera, string line, CameraState state)
    {
        lock (_gate)
        {
            Camera(camera, line).State = state;
        }
    }

    public void BatchScored(int frames, TimeSpan took) { }

    public void FramesDropped(string reason, int count) { }

    public void PartialsResent(int count) { }

    public void FrameDecided(FrameDecided decided)
    {
        ArgumentNullException.ThrowIfNull(decided);
        var fused = decided.Fused;
        lock (_gate)
        {
            var camera = Camera(fused.Frame.Camera, fused.Line);
            if (camera.Decided is { } previous && previous.Fused.Frame.Sequence > fused.Frame.Sequence)
            {
                return;
            }

            camera.Decided = decided;
            camera.DecidedCount++;
            var line = Line(fused.Line);
            var second = fused.CaptureTime.ToUnixTimeSeconds();
            line.Scores[second] = Math.Max(line.Scores.GetValueOrDefault(second), decided.Smoothed);
            Prune(line);
        }
    }

    /// <summary>
    /// Adds <paramref name="count"/> lost frames to a camera's tally (shown as "lost N" on its tile).
    /// Unknown cameras are ignored: their line is not known, and a loss is only reported for a
    /// camera whose frames were decided.
    /// </summary>
    public void FramesLost(string camera, long count)
    {
        ArgumentNullException.ThrowIfNull(camera);
        if (count <= 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_cameras.TryGetValue(camera, out var view))
            {
                view.LostCount += count;
            }
        }
    }

    /// <summary>Remembers the camera's last machine cycle time (known cameras only).</summary>
    public void CycleCompleted(string camera, string line, CycleRecord cycle)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(cycle);
        lock (_gate)
        {
            if (_cameras.TryGetValue(camera, out var view))
            {
                view.CycleSeconds = cycle.Duration.TotalSeconds;
            }
        }
    }

    public void AlarmChanged(AlarmEvent alarm)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        lock (_gate)
        {
            KeepEvidence(alarm);
            var line = Line(alarm.Line);
            line.Events.Add(alarm);
            if (line.Events.Count > MaxEvents)
            {
                line.Events.RemoveAt(0);
            }

            var span = line.Spans.FindLast(s => s.AlarmId == alarm.AlarmId);
            if (span is null)
            {
                span = new AlarmSpan(alarm.AlarmId) { Start = alarm.At };
                line.Spans.Add(span);
            }

            span.Peak = Math.Max(span.Peak, alarm.PeakScore);
            span.Cameras = alarm.Cameras;
            if (alarm.Phase == AlarmPhase.Cleared)
            {
                span.End = alarm.At;
                if (line.Active?.AlarmId == alarm.AlarmId)
                {
                    line.Active = null;
                }
            }
            else
            {
                line.Active = alarm;
            }

            Prune(line);
        }
    }

    /// <summary>The evidence of <paramref name="alarmId"/> (see <see cref="AlarmEvidenceStore"/>), or null when unknown or evicted.</summary>
    public AlarmEvidence? Evidence(string alarmId)
    {
        lock (_gate)
        {
            return _evidence.Get(alarmId);
        }
    }

    /// <summary>The alarms whose evidence is kept, newest first.</summary>
    public IReadOnlyList<AlarmEvidence> EvidenceList()
    {
        lock (_gate)
        {
            return _evidence.Newest();
        }
    }

    /// <summary>
    /// Keeps what the alarm's cameras show as it is raised: each camera's latest decided frame and
    /// JPEG; a later event of the same alarm updates the alarm and adds the cameras that joined it.
    /// </summary>
    private void KeepEvidence(AlarmEvent alarm)
    {
        var known = _evidence.Get(alarm.AlarmId);
        if (known is null && alarm.Phase != AlarmPhase.Raised)
        {
            return;
        }

        var cameras = known?.Cameras.ToList() ?? [];
        foreach (var id in alarm.Cameras.Where(c => cameras.All(e => e.Camera != c)))
        {
            if (_cameras.TryGetValue(id, out var view) && view.Decided is { } decided)
            {
                cameras.Add(new CameraEvidence(id, decided.Fused, decided.Smoothed, view.Jpeg, view.Jpeg is null ? null : view.JpegSequence));
            }
        }

        _evidence.Put(new AlarmEvidence(alarm, cameras));
    }

    /// <summary>
    /// The dashboard's snapshot as UTF-8 JSON: <c>{at, window, lines: [{id, state: "ok"|"alarm",
    /// alarm, events, timeline: {from, to, threshold, clear, scores: [[unixMs, max smoothed]],
    /// alarms: [{id, start, end, peak}]}}], cameras: [{id, line, state, score, smoothed, decided,
    /// lost, sequence, frame: {version, sequence, width, height} | null, grid: {width, height, residual,
    /// ignored} | null}]}</c>. <c>lost</c> counts the camera's frames that will never be decided
    /// (<see cref="FramesLost"/>) since this node started. Residual values are the decided frame's cell sums divided by its
    /// hottest cell (0..1); ignored values are the masked fraction of each cell (0..1). Times are
    /// Unix milliseconds.
    /// </summary>
    public byte[] SnapshotJson()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer))
        {
            lock (_gate)
            {
                WriteSnapshot(json);
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void WriteSnapshot(Utf8JsonWriter json)
    {
        var now = _time.GetUtcNow();
        var from = now - TimelineWindow;
        json.WriteStartObject();
        json.WriteNumber("at", now.ToUnixTimeMilliseconds());
        json.WriteNumber("window", (long)TimelineWindow.TotalMilliseconds);
        json.WriteStartArray("lines");
        foreach (var line in _lines.Values)
        {
            Prune(line);
            json.WriteStartObject();
            json.WriteString("id", line.Id);
            json.WriteString("state", line.Active is null ? "ok" : "alarm");
            if (line.Active is { } active)
            {
                json.WritePropertyName("alarm");
                WriteAlarm(json, active);
            }
            else
            {
                json.WriteNull("alarm");
            }

            json.WriteStartArray("events");
            foreach (var e in line.Events)
            {
                WriteAlarm(json, e);
            }

            json.WriteEndArray();
            json.WriteStartObject("timeline");
            json.WriteNumber("from", from.ToUnixTimeMilliseconds());
            json.WriteNumber("to", now.ToUnixTimeMilliseconds());
            json.WriteNumber("threshold", _aggregation.RaiseThreshold);
            json.WriteNumber("clear", _aggregation.ClearThreshold);
            json.WriteStartArray("scores");
            foreach (var (second, score) in line.Scores)
            {
                json.WriteStartArray();
                json.WriteNumberValue(second * 1000);
                json.WriteNumberValue(Math.Round(score, 4));
                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteStartArray("alarms");
            foreach (var span in line.Spans)
            {
                json.WriteStartObject();
                json.WriteString("id", span.AlarmId);
                json.WriteNumber("start", span.Start.ToUnixTimeMilliseconds());
                if (span.End is { } end)
                {
                    json.WriteNumber("end", end.ToUnixTimeMilliseconds());
                }
                else
                {
                    json.WriteNull("end");
                }

                json.WriteNumber("peak", Math.Round(span.Peak, 4));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("cameras");
        foreach (var camera in _cameras.Values)
        {
            json.WriteStartObject();
            json.WriteString("id", camera.Id);
            json.WriteString("line", camera.Line);
            json.WriteString("state", camera.State?.ToString().ToLowerInvariant() ?? "unknown");
            json.WriteNumber("decided", camera.DecidedCount);
            json.WriteNumber("lost", camera.LostCount);
            if (camera.CycleSeconds is { } cycleSeconds)
            {
                json.WriteNumber("cycleSeconds", Math.Round(cycleSeconds, 2));
            }
            if (camera.Decided is { } decided)
            {
                json.WriteNumber("score", Math.Round(decided.Fused.Score, 4));
                json.WriteNumber("smoothed", Math.Round(decided.Smoothed, 4));
                json.WriteNumber("sequence", decided.Fused.Frame.Sequence);
                json.WritePropertyName("grid");
                WriteGrid(json, decided.Fused.Residual, decided.Fused.Ignored);
            }

            else
            {
                json.WriteNull("score");
                json.WriteNull("smoothed");
                json.WriteNull("sequence");
                json.WriteNull("grid");
            }

            if (camera.Jpeg is not null)
            {
                json.WriteStartObject("frame");
                json.WriteNumber("version", camera.FrameVersion);
                json.WriteNumber("sequence", camera.JpegSequence);
                json.WriteNumber("captured", camera.JpegCaptured.ToUnixTimeMilliseconds());
                json.WriteNumber("width", camera.Width);
                json.WriteNumber("height", camera.Height);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("frame");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary><c>{width, height, residual, ignored}</c>: cells in 0..1 (residual: cell sum over the hottest cell; ignored: masked fraction, empty when none or of another size).</summary>
    internal static void WriteGrid(Utf8JsonWriter json, ResidualGrid residual, MaskGrid? ignored)
    {
        json.WriteStartObject();
        json.WriteNumber("width", residual.Width);
        json.WriteNumber("height", residual.Height);
        json.WriteStartArray("residual");
        foreach (var cell in residual.Cells)
        {
            json.WriteNumberValue(Math.Round(cell / 255.0, 3));
        }

        json.WriteEndArray();
        json.WriteStartArray("ignored");
        if (ignored is not null && ignored.Width == residual.Width && ignored.Height == residual.Height)
        {
            foreach (var cell in ignored.Coverage)
            {
                json.WriteNumberValue(Math.Round(cell / 255.0, 3));
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary><c>{id, line, phase, revision, at, peak, cameras}</c>: one alarm event (the dashboard's lines and the alarm evidence).</summary>
    internal static void WriteAlarm(Utf8JsonWriter json, AlarmEvent alarm)
    {
        json.WriteStartObject();
        json.WriteString("id", alarm.AlarmId);
        json.WriteString("line", alarm.Line);
        json.WriteString("phase", alarm.Phase.ToString().ToLowerInvariant());
        json.WriteNumber("revision", alarm.Revision);
        json.WriteNumber("at", alarm.At.ToUnixTimeMilliseconds());
        json.WriteNumber("peak", Math.Round(alarm.PeakScore, 4));
        json.WriteStartArray("cameras");
        foreach (var c in alarm.Cameras)
        {
            json.WriteStringValue(c);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void Prune(LineView line)
    {
        var from = _time.GetUtcNow() - TimelineWindow;
        var fromSecond = from.ToUnixTimeSeconds();
        while (line.Scores.Count > 0 && line.Scores.Keys[0] < fromSecond)
        {
            line.Scores.RemoveAt(0);
        }

        line.Spans.RemoveAll(s => s.End is { } end && end < from);
    }

    private CameraView Camera(string camera, string line)
    {
        if (!_cameras.TryGetValue(camera, out var view))
        {
            view = new CameraView(camera, line);
            _cameras[camera] = view;
            Line(line);
        }

        return view;
    }

    private LineView Line(string line)
    {
        if (!_lines.TryGetValue(line, out var view))
        {
            view = new LineView(line);
            _lines[line] = view;
        }

        return view;
    }

    private sealed class CameraView(string id, string line)
    {
        public string Id { get; } = id;

        public string Line { get; } = line;

        public CameraState? State { get; set; }

        public FrameDecided? Decided { get; set; }

        public long DecidedCount { get; set; }

        public long LostCount { get; set; }

        /// <summary>The last complete machine cycle, seconds; null until a detector that tracks the cycle timed one.</summary>
        public double? CycleSeconds { get; set; }

        public byte[]? Jpeg { get; set; }

        public long JpegAt { get; set; }

        public long JpegSequence { get; set; }

        public DateTimeOffset JpegCaptured { get; set; }

        public int Width { get; set; }

        public int Height { get; set; }

        public long FrameVersion { get; set; }
    }

    private sealed class LineView(string id)
    {
        public string Id { get; } = id;

        public AlarmEvent? Active { get; set; }

        public List<AlarmEvent> Events { get; } = [];

        /// <summary>Unix second -> max smoothed score of the line's frames captured in it.</summary>
        public SortedList<long, double> Scores { get; } = [];

        public List<AlarmSpan> Spans { get; } = [];
    }

    private sealed class AlarmSpan(string alarmId)
    {
        public string AlarmId { get; } = alarmId;

        public DateTimeOffset Start { get; init; }

        public DateTimeOffset? End { get; set; }

        public double Peak { get; set; }

        public string[] Cameras { get; set; } = [];
    }
}
