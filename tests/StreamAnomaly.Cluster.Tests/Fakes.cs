using System.Collections.Concurrent;
using System.Threading.Channels;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Cluster.Tests;

/// <summary>An in-memory feed: frames pushed by the test, acknowledgements recorded.</summary>
internal sealed class MemoryFeed : IFrameFeed
{
    private readonly Channel<IncomingFrame> _frames = Channel.CreateUnbounded<IncomingFrame>();
    private long _offset;

    public ConcurrentQueue<FrameReceipt> Acknowledged { get; } = new();

    public int InFlight => 0;

    public IncomingFrame Push(string camera, long sequence, string line = "A")
    {
        var frame = new IncomingFrame(
            new FrameMetadata(camera, line, sequence, StreamingFixtures.T0.AddMilliseconds(sequence * 200), 8, 8),
            new Frame(8, 8, new byte[8 * 8 * 3]),
            new FrameReceipt(0, Interlocked.Increment(ref _offset)));
        _frames.Writer.TryWrite(frame);
        return frame;
    }

    public async Task RunAsync(Action<IncomingFrame> onFrame, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in _frames.Reader.ReadAllAsync(cancellationToken))
            {
                onFrame(frame);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Acknowledge(FrameReceipt receipt) => Acknowledged.Enqueue(receipt);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A scorer whose raw score is the frame's sequence number (so tests can predict it), or that throws.</summary>
internal sealed class SequenceScorer(string detector = "fake", bool fail = false) : IFrameScorer
{
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    public bool Disposed { get; private set; }

    public string Detector { get; } = detector;

    public ScoreCalibration Calibration { get; } = StreamingFixtures.Calibration;

    public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Frame Image)> batch)
    {
        if (fail)
        {
            throw new InvalidOperationException("model exploded");
        }

        BatchSizes.Enqueue(batch.Count);
        return batch.Select(f => new DetectorVerdict(f.Key.Sequence, new ResidualGrid(2, 2, 1, [255, 255, 255, 255]), null)).ToArray();
    }

    public void Dispose() => Disposed = true;
}

/// <summary>A scorer that tracks a machine cycle of 10 frames: the phase of frame n is (n mod 10) / 10.</summary>
internal sealed class PhaseScorer : IFrameScorer
{
    public string Detector => "cycle";

    public ScoreCalibration Calibration { get; } = StreamingFixtures.Calibration;

    public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Frame Image)> batch) =>
        batch.Select(f => new DetectorVerdict(1, new ResidualGrid(2, 2, 1, [0, 0, 0, 0]), null, f.Key.Sequence % 10 / 10.0)).ToArray();

    public void Dispose()
    {
    }
}

/// <summary>Records the cycles a worker reports; ignores everything else.</summary>
internal sealed class CycleRecorder : IPipelineObserver
{
    public ConcurrentQueue<(string Camera, string Line, CycleRecord Cycle)> Cycles { get; } = new();

    public void CycleCompleted(string camera, string line, CycleRecord cycle) => Cycles.Enqueue((camera, line, cycle));

    public void CameraStateChanged(string camera, string line, CameraState state) { }

    public void BatchScored(int frames, TimeSpan took) { }

    public void FramesDropped(string reason, int count) { }

    public void PartialsResent(int count) { }

    public void FrameDecided(FrameDecided decided) { }

    public void FramesLost(string camera, long count) { }

    public void AlarmChanged(AlarmEvent alarm) { }
}

/// <summary>Alarm sink that records, optionally failing the first N publications.</summary>
internal sealed class RecordingAlarmSink(int failures = 0, string name = "recording") : IAlarmSink
{
    public string Name => name;

    private int _failures = failures;

    public ConcurrentQueue<AlarmEvent> Published { get; } = new();

    public Task PublishAsync(AlarmEvent alarm, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref _failures) >= 0)
        {
            return Task.FromException(new IOException("broker unreachable"));
        }

        Published.Enqueue(alarm);
        return Task.CompletedTask;
    }
}

internal static class StreamingFixtures
{
    /// <summary>
    /// HOCON for every actor test kit here: expectations without their own timeout wait 15 s, not
    /// Akka's 3 s (CI runs these beside the integration tests on 2 cores; a first message that had
    /// to wait for JIT and serializer warm-up once took longer than 3 s). Passing tests do not wait.
    /// </summary>
    public const string Patient = "akka.test.single-expect-default = 15s";

    /// <summary>Line aggregators' journal and snapshots in memory: they outlive an actor, not its actor system.</summary>
    public const string InMemoryJournal = """
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """;

    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    /// <summary>raw 10 -> 0.5; range 20.</summary>
    public static readonly ScoreCalibration Calibration = new(10, 0, 20, 99);

    public static PartialResult Partial(string camera, long sequence, double raw, string line = "A") =>
        new(new FrameKey(camera, sequence), line, T0.AddMilliseconds(sequence * 200), "fake", 1, raw, Calibration,
            new ResidualGrid(2, 2, 1, [255, 255, 255, 255]), new MaskGrid(2, 2, [0, 0, 0, 255]));
}
