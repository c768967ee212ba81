namespace StreamAnomaly.Core.Streaming;

/// <summary>How a worker groups frames for inference.</summary>
/// <param name="MaxBatchSize">Largest batch handed to the detectors, &gt;= 1.</param>
/// <param name="MaxWait">A non-full batch is released once its oldest frame waited this long.</param>
/// <param name="MaxQueuedPerLiveCamera">Newest-frame-wins: a live camera keeps at most this many frames queued; older ones are dropped.</param>
public sealed record BatchingOptions(int MaxBatchSize = 16, TimeSpan MaxWait = default, int MaxQueuedPerLiveCamera = 2)
{
    /// <summary>The effective wait: 50 ms when left at zero.</summary>
    public TimeSpan Wait => MaxWait > TimeSpan.Zero ? MaxWait : TimeSpan.FromMilliseconds(50);

    /// <summary>Problems, each naming its configuration key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBatchSize < 1)
        {
            errors.Add($"Worker:MaxBatchSize must be >= 1, got {MaxBatchSize}");
        }

        if (MaxWait < TimeSpan.Zero)
        {
            errors.Add($"Worker:MaxWait must be >= 0, got {MaxWait}");
        }

        if (MaxQueuedPerLiveCamera < 1)
        {
            errors.Add($"Worker:MaxQueuedPerLiveCamera must be >= 1, got {MaxQueuedPerLiveCamera}");
        }

        return errors;
    }
}

/// <summary>
/// A worker's queue of frames waiting for inference, batched across cameras (deterministic, no
/// I/O; time passed in). A batch is ready when <see cref="BatchingOptions.MaxBatchSize"/> frames
/// wait or the oldest waited <see cref="BatchingOptions.Wait"/>. For live cameras the newest frame
/// wins: when one falls behind, its oldest queued frames are dropped (and must be acknowledged by
/// the caller, so they are not redelivered).
/// </summary>
public sealed class FrameBatcher<T>(BatchingOptions options, Func<T, FrameKey> key, Func<string, bool> isLive)
{
    private readonly LinkedList<(T Item, DateTimeOffset Arrived)> _queue = new();

    /// <summary>Frames waiting.</summary>
    public int Count => _queue.Count;

    /// <summary>Queues a frame; returns the frames of the same live camera it pushed out (oldest first).</summary>
    public IReadOnlyList<T> Enqueue(T item, DateTimeOffset now)
    {
        _queue.AddLast((item, now));
        var camera = key(item).Camera;
        if (!isLive(camera))
        {
            return [];
        }

        var mine = new List<LinkedListNode<(T Item, DateTimeOffset Arrived)>>();
        for (var node = _queue.First; node is not null; node = node.Next)
        {
            if (key(node.Value.Item).Camera == camera)
            {
                mine.Add(node);
            }
        }

        var dropped = new List<T>();
        foreach (var node in mine.Take(Math.Max(0, mine.Count - options.MaxQueuedPerLiveCamera)))
        {
            dropped.Add(node.Value.Item);
            _queue.Remove(node);
        }

        return dropped;
    }

    /// <summary>Time until the queued frames form a batch by waiting, or null when the queue is empty.</summary>
    public TimeSpan? DueIn(DateTimeOffset now) =>
        _queue.First is { } first ? Max(TimeSpan.Zero, first.Value.Arrived + options.Wait - now) : null;

    /// <summary>Takes the next batch (oldest first) when one is ready; otherwise an empty list.</summary>
    public IReadOnlyList<T> TakeReady(DateTimeOffset now)
    {
        if (_queue.Count == 0 || (_queue.Count < options.MaxBatchSize && DueIn(now) > TimeSpan.Zero))
        {
            return [];
        }

        var batch = new List<T>(Math.Min(_queue.Count, options.MaxBatchSize));
        while (batch.Count < options.MaxBatchSize && _queue.First is { } first)
        {
            batch.Add(first.Value.Item);
            _queue.RemoveFirst();
        }

        return batch;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>What one detector says about one frame, ready for the wire (see <see cref="PartialResult"/>).</summary>
/// <param name="RawScore">The detector's raw score.</param>
/// <param name="Residual">Its anomaly map as a grid.</param>
/// <param name="Ignored">What it explains as normal, or null.</param>
/// <param name="Phase">The frame's phase in the machine's cycle, in [0, 1), from a detector that tracks it; null otherwise.</param>
/// <param name="Reduction">How the raw score sums up the residual (see <see cref="Detection.ScoreReduction"/>).</param>
public sealed record DetectorVerdict(double RawScore, ResidualGrid Residual, MaskGrid? Ignored, double? Phase = null, Detection.ScoreReduction Reduction = Detection.ScoreReduction.Sum);

/// <summary>
/// A loaded detector as a worker uses it: scores a batch of frames from any cameras. Frame
/// detectors score each frame alone; temporal ones keep a window of each camera's recent frames
/// (so a camera's frames must be given in sequence order). Not thread-safe.
/// </summary>
public interface IFrameScorer : IDisposable
{
    /// <summary>Detector kind, e.g. "autoencoder".</summary>
    string Detector { get; }

    /// <summary>Calibration from the detector's bundle.</summary>
    Scoring.ScoreCalibration Calibration { get; }

    /// <summary>The version of the model scoring (its bundle's), for alarm evidence; null when not known.</summary>
    string? Model => null;

    /// <summary>One verdict per frame, in order.</summary>
    IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Imaging.Frame Image)> batch);
}
