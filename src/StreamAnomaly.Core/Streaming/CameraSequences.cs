namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// The per-camera frame-number state of one line aggregator: refuses frames whose number their
/// camera cannot have produced (<see cref="SequenceRange"/>) and counts the numbers a camera
/// skipped, i.e. frames that will never be decided. Not thread-safe: its aggregator owns it.
/// </summary>
/// <remarks>
/// Why here and not only in the worker's feed: the feed dead-letters what the stateless clock
/// rule refuses (it sees every message, keeps the evidence, and spares the decoding), but the
/// continuity rule needs the camera's last accepted frame, and only the camera's line aggregator
/// sees all of its frames, across worker restarts and partition moves. A frame refused here is
/// acknowledged (so its offset is committed) and counted, never decided, and never marked in the
/// deduplicator.
/// <para>Loss: when a decided frame's number is above the camera's highest decided number by more
/// than one, within the same run, the numbers in between count as lost at once. Frames of one
/// camera reach the aggregator in order (one partition, one worker at a time); a frame that still
/// arrives after a later one is decided, but was already counted lost (a counter cannot go back).
/// A restart's jump, and everything before a camera's first frame, is not counted.</para>
/// </remarks>
/// <param name="fpsOf">The configured frame rate of a camera (&gt; 0).</param>
public sealed class CameraSequences(Func<string, double> fpsOf)
{
    private readonly Dictionary<string, (long Sequence, DateTimeOffset CaptureTime)> _highest = new(StringComparer.Ordinal);

    /// <summary>Null when the frame's number is plausible for its camera at <paramref name="now"/>, else a one-line reason. Changes nothing.</summary>
    public string? Check(FrameKey frame, DateTimeOffset captureTime, DateTimeOffset now)
    {
        if (SequenceRange.CheckClock(frame.Sequence, captureTime, now) is { } clock)
        {
            return clock;
        }

        if (!_highest.TryGetValue(frame.Camera, out var last)
            || SequenceRange.IsPlausibleAdvance(frame.Sequence, captureTime, last.Sequence, last.CaptureTime, fpsOf(frame.Camera)))
        {
            return null;
        }

        var fps = fpsOf(frame.Camera);
        return $"sequence {frame.Sequence} is {frame.Sequence - last.Sequence} frames after camera {frame.Camera}'s last accepted frame {last.Sequence} "
            + $"({(captureTime - last.CaptureTime).TotalSeconds:F1} s of capture time at {fps} fps allow {SequenceRange.MaxAdvance(fps, captureTime - last.CaptureTime)}) "
            + $"and below where a restarted camera would number from ({SequenceRange.Micros(last.CaptureTime) - (SequenceRange.MaxClockSkew.Ticks / 10)})";
    }

    /// <summary>
    /// Records a decided frame (one <see cref="Check"/> passed); returns how many numbers its camera
    /// skipped since its highest decided frame: 0 for its first frame, a late frame or a restart.
    /// </summary>
    public long Decided(FrameKey frame, DateTimeOffset captureTime)
    {
        if (!_highest.TryGetValue(frame.Camera, out var last))
        {
            _highest[frame.Camera] = (frame.Sequence, captureTime);
            return 0;
        }

        if (frame.Sequence <= last.Sequence)
        {
            return 0;
        }

        var sameRun = SequenceRange.IsSameRun(frame.Sequence, captureTime, last.Sequence, last.CaptureTime, fpsOf(frame.Camera));
        _highest[frame.Camera] = (frame.Sequence, captureTime);
        return sameRun ? frame.Sequence - last.Sequence - 1 : 0;
    }

    /// <summary>The highest decided frame number of <paramref name="camera"/> and its capture time, or null before its first.</summary>
    public (long Sequence, DateTimeOffset CaptureTime)? Highest(string camera) =>
        _highest.TryGetValue(camera, out var last) ? last : null;

    /// <summary>Sets the highest decided frame of <paramref name="camera"/> (a restored state).</summary>
    public void Restore(string camera, long sequence, DateTimeOffset captureTime) => _highest[camera] = (sequence, captureTime);
}
