using System.Buffers;
using System.Text.Json;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Host.Dashboard;

/// <summary>What one camera showed when an alarm was raised (or when it joined the alarm).</summary>
/// <param name="Camera">Camera id.</param>
/// <param name="Decided">Its latest decided frame then: score, each detector's score, phase, residual and ignore grids.</param>
/// <param name="Smoothed">The smoothed score the alarm rule saw.</param>
/// <param name="Jpeg">Its latest frame's JPEG then (the dashboard's, at most its frame interval old), or null when none had arrived.</param>
/// <param name="JpegSequence">That JPEG's frame number.</param>
public sealed record CameraEvidence(string Camera, FusedFrame Decided, double Smoothed, byte[]? Jpeg, long? JpegSequence)
{
    /// <summary>Bytes this record holds, about (the JPEG and the grids).</summary>
    public long Bytes => (Jpeg?.Length ?? 0) + Decided.Residual.Cells.Length + (Decided.Ignored?.Coverage.Length ?? 0) + 256;
}

/// <summary>An alarm, as last published, with what its cameras showed.</summary>
public sealed record AlarmEvidence(AlarmEvent Alarm, IReadOnlyList<CameraEvidence> Cameras)
{
    /// <summary>Bytes this record holds, about.</summary>
    public long Bytes => Cameras.Sum(static c => c.Bytes) + 256;
}

/// <summary>
/// The evidence of recent alarms, newest kept: at most <paramref name="maxCount"/> alarms and
/// <paramref name="maxBytes"/> bytes (the oldest go first; the newest stays even alone above the
/// byte bound). Not thread-safe: <see cref="DashboardState"/> guards it.
/// </summary>
public sealed class AlarmEvidenceStore(int maxCount, long maxBytes)
{
    private readonly LinkedList<AlarmEvidence> _order = new();
    private readonly Dictionary<string, LinkedListNode<AlarmEvidence>> _byId = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>Alarms held.</summary>
    public int Count => _order.Count;

    /// <summary>Bytes held, about.</summary>
    public long Bytes => _bytes;

    /// <summary>Adds or replaces the evidence of its alarm (a replaced alarm keeps its place), then evicts the oldest beyond the bounds.</summary>
    public void Put(AlarmEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (_byId.TryGetValue(evidence.Alarm.AlarmId, out var node))
        {
            _bytes -= node.Value.Bytes;
            node.Value = evidence;
        }
        else
        {
            _byId[evidence.Alarm.AlarmId] = _order.AddLast(evidence);
        }

        _bytes += evidence.Bytes;
        while (_order.Count > 1 && (_order.Count > maxCount || _bytes > maxBytes))
        {
            var oldest = _order.First!;
            _order.RemoveFirst();
            _byId.Remove(oldest.Value.Alarm.AlarmId);
            _bytes -= oldest.Value.Bytes;
        }
    }

    /// <summary>The evidence of <paramref name="alarmId"/>, or null when unknown or evicted.</summary>
    public AlarmEvidence? Get(string alarmId) => _byId.TryGetValue(alarmId, out var node) ? node.Value : null;

    /// <summary>Every alarm held, newest first.</summary>
    public IReadOnlyList<AlarmEvidence> Newest() => [.. _order.Reverse()];

    /// <summary>
    /// <c>{alarm: {id, line, phase, revision, at, peak, cameras}, cameras: [{camera, sequence,
    /// captured, score, smoothed, detectors: {name: score}, models: {name: version}, phase | null, grid: {width, height,
    /// residual, ignored}, frame: {sequence, url} | null}]}</c>: the frame itself at
    /// <c>/alarms/{id}/cameras/{camera}/frame.jpg</c>; grids as the dashboard's snapshot writes them.
    /// </summary>
    public static byte[] Json(AlarmEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var json = new Utf8JsonWriter(buffer))
        {
            var alarm = evidence.Alarm;
            json.WriteStartObject();
            json.WritePropertyName("alarm");
            DashboardState.WriteAlarm(json, alarm);
            json.WriteStartArray("cameras");
            foreach (var camera in evidence.Cameras)
            {
                var fused = camera.Decided;
                json.WriteStartObject();
                json.WriteString("camera", camera.Camera);
                json.WriteNumber("sequence", fused.Frame.Sequence);
                json.WriteNumber("captured", fused.CaptureTime.ToUnixTimeMilliseconds());
                json.WriteNumber("score", Math.Round(fused.Score, 4));
                json.WriteNumber("smoothed", Math.Round(camera.Smoothed, 4));
                json.WriteStartObject("detectors");
                foreach (var (detector, score) in fused.DetectorScores ?? new Dictionary<string, double>())
                {
                    json.WriteNumber(detector, Math.Round(score, 4));
                }

                json.WriteEndObject();
                json.WriteStartObject("models");
                foreach (var (detector, model) in fused.Models ?? new Dictionary<string, string>())
                {
                    json.WriteString(detector, model);
                }

                json.WriteEndObject();
                if (fused.Phase is { } phase)
                {
                    json.WriteNumber("phase", Math.Round(phase, 4));
                }
                else
                {
                    json.WriteNull("phase");
                }

                json.WritePropertyName("grid");
                DashboardState.WriteGrid(json, fused.Residual, fused.Ignored);
                if (camera.Jpeg is not null)
                {
                    json.WriteStartObject("frame");
                    json.WriteNumber("sequence", camera.JpegSequence ?? fused.Frame.Sequence);
                    json.WriteString("url", $"/alarms/{Uri.EscapeDataString(alarm.AlarmId)}/cameras/{Uri.EscapeDataString(camera.Camera)}/frame.jpg");
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

        return buffer.WrittenSpan.ToArray();
    }
}
