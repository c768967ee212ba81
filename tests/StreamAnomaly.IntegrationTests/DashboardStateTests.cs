using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Host.Dashboard;

namespace StreamAnomaly.IntegrationTests;

/// <summary>The dashboard's state without a browser: observer events in, snapshot JSON out; frame throttling.</summary>
public sealed class DashboardStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, string> CameraLines = new() { ["line-a-cam1"] = "line-a", ["line-b-cam1"] = "line-b", ["line-b-cam2"] = "line-b" };

    private static (DashboardState State, FakeTimeProvider Time) Create()
    {
        var time = new FakeTimeProvider(Start);
        return (new DashboardState(CameraLines, time), time);
    }

    private static JsonElement Snapshot(DashboardState state) => JsonDocument.Parse(state.SnapshotJson()).RootElement;

    private static JsonElement Line(JsonElement snapshot, string id) => snapshot.GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("id").GetString() == id);

    private static JsonElement Camera(JsonElement snapshot, string id) => snapshot.GetProperty("cameras").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    private static FrameDecided Decided(string camera, string line, long sequence, DateTimeOffset at, double score, double smoothed, byte[]? ignored = null) =>
        new(new FusedFrame(new FrameKey(camera, sequence), line, at, score, ["ae"], true, new ResidualGrid(2, 2, 3f, [0, 255, 51, 0]), ignored is null ? null : new MaskGrid(2, 2, ignored)), smoothed, at);

    private static (string Jpeg, long Version) Latest(DashboardState state, string camera) => state.LatestFrame(camera) is { } f ? (string.Join(",", f.Jpeg), f.Version) : throw new InvalidOperationException("no frame");

    private static FrameMetadata Meta(string camera, long sequence) => new(camera, CameraLines.GetValueOrDefault(camera, "line-x"), sequence, Start, 64, 48);

    private static AlarmEvent Alarm(string id, AlarmPhase phase, int revision, params string[] cameras) => new("line-b", id, phase, revision, Start, 0.9, cameras);

    [Fact]
    public void A_raised_alarm_keeps_its_cameras_decided_frame_scores_grids_and_picture()
    {
        var (state, _) = Create();
        state.OfferFrame(Meta("line-b-cam1", 7), [0xFF, 0xD8, 1]);
        var decided = Decided("line-b-cam1", "line-b", 7, Start, 0.8, 0.7);
        state.FrameDecided(new FrameDecided(decided.Fused with { DetectorScores = new Dictionary<string, double> { ["patchcore"] = 0.8, ["cycle"] = 0.3 }, Phase = 0.25, Models = new Dictionary<string, string> { ["patchcore"] = "20261203T061658Z" } }, 0.7, Start));
        state.AlarmChanged(Alarm("b:1", AlarmPhase.Raised, 0, "line-b-cam1"));

        var evidence = state.Evidence("b:1");
        Assert.NotNull(evidence);
        var camera = Assert.Single(evidence.Cameras);
        Assert.Equal([0xFF, 0xD8, 1], camera.Jpeg);
        Assert.Equal(7, camera.JpegSequence);
        using var json = JsonDocument.Parse(AlarmEvidenceStore.Json(evidence));
        var written = Assert.Single(json.RootElement.GetProperty("cameras").EnumerateArray());
        Assert.Equal((0.8, 0.3, 0.25), (written.GetProperty("detectors").GetProperty("patchcore").GetDouble(), written.GetProperty("detectors").GetProperty("cycle").GetDouble(), written.GetProperty("phase").GetDouble()));
        Assert.Equal("20261203T061658Z", written.GetProperty("models").GetProperty("patchcore").GetString());
        Assert.Equal([0, 1, 0.2, 0], written.GetProperty("grid").GetProperty("residual").EnumerateArray().Select(static c => c.GetDouble()));
        Assert.Equal("/alarms/b%3A1/cameras/line-b-cam1/frame.jpg", written.GetProperty("frame").GetProperty("url").GetString());
    }

    [Fact]
    public void A_camera_joining_an_alarm_adds_its_evidence_and_the_clear_updates_the_alarm()
    {
        var (state, _) = Create();
        state.FrameDecided(Decided("line-b-cam1", "line-b", 7, Start, 0.8, 0.7));
        state.AlarmChanged(Alarm("b:1", AlarmPhase.Raised, 0, "line-b-cam1"));
        state.FrameDecided(Decided("line-b-cam2", "line-b", 9, Start, 0.9, 0.8));
        state.FrameDecided(Decided("line-b-cam1", "line-b", 8, Start, 0.1, 0.1));
        state.AlarmChanged(Alarm("b:1", AlarmPhase.Updated, 1, "line-b-cam1", "line-b-cam2"));
        state.AlarmChanged(Alarm("b:1", AlarmPhase.Cleared, 2, "line-b-cam1", "line-b-cam2"));

        var evidence = state.Evidence("b:1")!;
        Assert.Equal(AlarmPhase.Cleared, evidence.Alarm.Phase);
        Assert.Equal([("line-b-cam1", 7L), ("line-b-cam2", 9L)], evidence.Cameras.Select(static c => (c.Camera, c.Decided.Frame.Sequence)));
    }

    [Fact]
    public void An_alarm_first_seen_after_its_raise_keeps_no_evidence()
    {
        var (state, _) = Create();
        state.FrameDecided(Decided("line-b-cam1", "line-b", 7, Start, 0.8, 0.7));
        state.AlarmChanged(Alarm("b:1", AlarmPhase.Cleared, 2, "line-b-cam1"));
        Assert.Null(state.Evidence("b:1"));
    }

    [Fact]
    public void The_evidence_store_drops_the_oldest_alarms_beyond_its_count()
    {
        var store = new AlarmEvidenceStore(maxCount: 2, maxBytes: 1 << 20);
        foreach (var id in new[] { "a", "b", "c" })
        {
            store.Put(new AlarmEvidence(Alarm(id, AlarmPhase.Raised, 0), []));
        }

        Assert.Equal(["c", "b"], store.Newest().Select(static e => e.Alarm.AlarmId));
        Assert.Null(store.Get("a"));
    }

    [Fact]
    public void The_evidence_store_drops_the_oldest_alarms_beyond_its_bytes_but_keeps_the_newest()
    {
        var store = new AlarmEvidenceStore(maxCount: 100, maxBytes: 5000);
        var fused = Decided("line-b-cam1", "line-b", 7, Start, 0.8, 0.7).Fused;
        foreach (var id in new[] { "a", "b", "c" })
        {
            store.Put(new AlarmEvidence(Alarm(id, AlarmPhase.Raised, 0), [new CameraEvidence("line-b-cam1", fused, 0.7, new byte[3000], 7)]));
        }

        Assert.Equal(["c"], store.Newest().Select(static e => e.Alarm.AlarmId));
        Assert.Equal(store.Get("c")!.Bytes, store.Bytes);
    }

    [Fact]
    public void Every_configured_camera_and_line_is_in_the_snapshot_before_anything_happens()
    {
        var (state, _) = Create();
        var snapshot = Snapshot(state);
        Assert.Equal(["line-a", "line-b"], snapshot.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("id").GetString()));
        Assert.Equal(["line-a-cam1", "line-b-cam1", "line-b-cam2"], snapshot.GetProperty("cameras").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        Assert.All(snapshot.GetProperty("lines").EnumerateArray(), l => Assert.Equal("ok", l.GetProperty("state").GetString()));
        var camera = Camera(snapshot, "line-b-cam2");
        Assert.Equal("line-b", camera.GetProperty("line").GetString());
        Assert.Equal(JsonValueKind.Null, camera.GetProperty("frame").ValueKind);
        Assert.Equal(JsonValueKind.Null, camera.GetProperty("grid").ValueKind);
        Assert.Null(state.LatestFrame("line-b-cam2"));
    }

    [Fact]
    public void A_decided_frame_shows_its_scores_state_and_grids_normalised_to_0_1()
    {
        var (state, time) = Create();
        state.CameraStateChanged("line-b-cam1", "line-b", CameraState.Online);
        state.FrameDecided(Decided("line-b-cam1", "line-b", 7, Start, 0.31, 0.2, ignored: [255, 0, 0, 128]));
        state.FrameDecided(Decided("line-b-cam2", "line-b", 3, Start.AddMilliseconds(300), 0.9, 0.6));
        state.FrameDecided(Decided("line-b-cam1", "line-b", 6, Start, 0.99, 0.99)); // older than the one shown: ignored, also on the timeline
        time.Advance(TimeSpan.FromSeconds(2));

        var snapshot = Snapshot(state);
        var camera = Camera(snapshot, "line-b-cam1");
        Assert.Equal("online", camera.GetProperty("state").GetString());
        Assert.Equal(0.31, camera.GetProperty("score").GetDouble());
        Assert.Equal(0.2, camera.GetProperty("smoothed").GetDouble());
        Assert.Equal(7, camera.GetProperty("sequence").GetInt64());
        var grid = camera.GetProperty("grid");
        Assert.Equal(2, grid.GetProperty("width").GetInt32());
        Assert.Equal([0, 1, 0.2, 0], grid.GetProperty("residual").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([1, 0, 0, 0.502], grid.GetProperty("ignored").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Empty(Camera(snapshot, "line-b-cam2").GetProperty("grid").GetProperty("ignored").EnumerateArray());

        // one timeline point per second: the line's highest smoothed score
        var scores = Line(snapshot, "line-b").GetProperty("timeline").GetProperty("scores").EnumerateArray().Select(p => (p[0].GetInt64(), p[1].GetDouble())).ToArray();
        Assert.Equal([(Start.ToUnixTimeMilliseconds(), 0.6)], scores);
        Assert.Empty(Line(snapshot, "line-a").GetProperty("timeline").GetProperty("scores").EnumerateArray());
    }

    [Fact]
    public void An_alarm_shows_as_the_line_state_and_as_a_span_until_it_clears()
    {
        var (state, time) = Create();
        state.AlarmChanged(new AlarmEvent("line-b", "line-b/line-b-cam1/40", AlarmPhase.Raised, 0, Start, 0.7, ["line-b-cam1"]));
        state.AlarmChanged(new AlarmEvent("line-b", "line-b/line-b-cam1/40", AlarmPhase.Updated, 1, Start.AddSeconds(1), 0.8, ["line-b-cam1"]));
        time.Advance(TimeSpan.FromSeconds(3));

        var raised = Snapshot(state);
        var line = Line(raised, "line-b");
        Assert.Equal("alarm", line.GetProperty("state").GetString());
        Assert.Equal("updated", line.GetProperty("alarm").GetProperty("phase").GetString());
        Assert.Equal(0.8, line.GetProperty("alarm").GetProperty("peak").GetDouble());
        Assert.Equal(["line-b-cam1"], line.GetProperty("alarm").GetProperty("cameras").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(2, line.GetProperty("events").GetArrayLength());
        var span = Assert.Single(line.GetProperty("timeline").GetProperty("alarms").EnumerateArray());
        Assert.Equal(Start.ToUnixTimeMilliseconds(), span.GetProperty("start").GetInt64());
        Assert.Equal(JsonValueKind.Null, span.GetProperty("end").ValueKind);
        Assert.Equal("ok", Line(raised, "line-a").GetProperty("state").GetString());

        state.AlarmChanged(new AlarmEvent("line-b", "line-b/line-b-cam1/40", AlarmPhase.Cleared, 2, Start.AddSeconds(5), 0.8, ["line-b-cam1"]));
        var cleared = Line(Snapshot(state), "line-b");
        Assert.Equal("ok", cleared.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("alarm").ValueKind);
        Assert.Equal(Start.AddSeconds(5).ToUnixTimeMilliseconds(), cleared.GetProperty("timeline").GetProperty("alarms")[0].GetProperty("end").GetInt64());

        // outside the window, scores and finished alarm spans are dropped
        state.FrameDecided(Decided("line-b-cam1", "line-b", 1, Start, 0.1, 0.1));
        time.Advance(state.TimelineWindow + TimeSpan.FromSeconds(10));
        var later = Line(Snapshot(state), "line-b").GetProperty("timeline");
        Assert.Empty(later.GetProperty("alarms").EnumerateArray());
        Assert.Empty(later.GetProperty("scores").EnumerateArray());
    }

    [Fact]
    public void Frames_are_kept_at_most_every_frame_interval_per_camera()
    {
        var (state, time) = Create();
        Assert.True(state.OfferFrame(Meta("line-a-cam1", 1), [1]));
        Assert.True(state.OfferFrame(Meta("line-b-cam1", 1), [2]), "another camera has its own throttle");
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.False(state.OfferFrame(Meta("line-a-cam1", 2), [3]));
        Assert.Equal(("1", 1L), Latest(state, "line-a-cam1"));
        time.Advance(state.FrameInterval);
        Assert.True(state.OfferFrame(Meta("line-a-cam1", 3), [4]));
        Assert.Equal(("4", 2L), Latest(state, "line-a-cam1"));
        Assert.False(state.OfferFrame(Meta("unknown-cam", 1), [5]), "unknown cameras are ignored");

        var frame = Camera(Snapshot(state), "line-a-cam1").GetProperty("frame");
        Assert.Equal(2, frame.GetProperty("version").GetInt64());
        Assert.Equal(3, frame.GetProperty("sequence").GetInt64());
        Assert.Equal(64, frame.GetProperty("width").GetInt32());
        Assert.Equal(48, frame.GetProperty("height").GetInt32());
    }

    [Fact]
    public void Lost_frames_accumulate_per_camera_in_the_snapshot()
    {
        var (state, _) = Create();
        Assert.All(Snapshot(state).GetProperty("cameras").EnumerateArray(), c => Assert.Equal(0, c.GetProperty("lost").GetInt64()));

        state.FramesLost("line-b-cam1", 3);
        state.FramesLost("line-b-cam1", 677);
        state.FramesLost("line-a-cam1", 2);

        var snapshot = Snapshot(state);
        Assert.Equal(680, Camera(snapshot, "line-b-cam1").GetProperty("lost").GetInt64());
        Assert.Equal(2, Camera(snapshot, "line-a-cam1").GetProperty("lost").GetInt64());
        Assert.Equal(0, Camera(snapshot, "line-b-cam2").GetProperty("lost").GetInt64());
    }

    [Fact]
    public void A_cameras_last_machine_cycle_time_is_in_the_snapshot_once_timed()
    {
        var (state, _) = Create();
        Assert.All(Snapshot(state).GetProperty("cameras").EnumerateArray(), c => Assert.False(c.TryGetProperty("cycleSeconds", out _)));
        var start = new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

        state.CycleCompleted("line-a-cam1", "line-a", new CycleRecord(start, start.AddSeconds(6.04), 0.2, 0.5));
        state.CycleCompleted("line-a-cam1", "line-a", new CycleRecord(start.AddSeconds(6.04), start.AddSeconds(12.31), 0.9, 0.52));
        state.CycleCompleted("unknown-cam", "line-a", new CycleRecord(start, start.AddSeconds(1), 0, 0));

        var snapshot = Snapshot(state);
        Assert.Equal(6.27, Camera(snapshot, "line-a-cam1").GetProperty("cycleSeconds").GetDouble(), 6);
        Assert.False(Camera(snapshot, "line-b-cam1").TryGetProperty("cycleSeconds", out _));
        Assert.DoesNotContain(snapshot.GetProperty("cameras").EnumerateArray(), c => c.GetProperty("id").GetString() == "unknown-cam");
    }

    [Fact]
    public void Lost_frames_of_an_unknown_camera_are_ignored()
    {
        var (state, _) = Create();
        state.FramesLost("unknown-cam", 5);
        Assert.DoesNotContain(Snapshot(state).GetProperty("cameras").EnumerateArray(), c => c.GetProperty("id").GetString() == "unknown-cam");
    }
}
