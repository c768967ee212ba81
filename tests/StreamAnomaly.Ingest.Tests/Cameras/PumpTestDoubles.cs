using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Cameras;

namespace StreamAnomaly.Ingest.Tests.Cameras;

/// <summary>A source whose every read runs a script: read index -&gt; frames (or a throw).</summary>
internal sealed class ScriptedSource(bool isLive, Func<int, CancellationToken, IAsyncEnumerable<Frame>> script) : ICameraSource
{
    private int _reads;

    public string Description => "scripted";

    public bool IsLive => isLive;

    public int Reads => Volatile.Read(ref _reads);

    public IAsyncEnumerable<Frame> ReadAsync(CancellationToken cancellationToken) => script(Interlocked.Increment(ref _reads) - 1, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The frames, one after the other, each after <paramref name="gap"/> on <paramref name="time"/> (no wait when null).</summary>
    public static async IAsyncEnumerable<Frame> Frames(IEnumerable<Frame> frames, TimeProvider? time = null, TimeSpan gap = default, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var frame in frames)
        {
            if (time is not null)
            {
                await Task.Delay(gap, time, cancellationToken);
            }
            else
            {
                await Task.Yield();
            }

            yield return frame;
        }
    }

    /// <summary>A read that fails at once.</summary>
    public static async IAsyncEnumerable<Frame> Failing(string message)
    {
        await Task.Yield();
        throw new IOException(message);
#pragma warning disable CS0162 // an iterator needs a yield
        yield break;
#pragma warning restore CS0162
    }
}

/// <summary>Records what the sink got; throws for the calls <paramref name="failOn"/> selects (0-based).</summary>
internal sealed class RecordingSink(Func<int, bool>? failOn = null) : IFrameSink
{
    private int _calls;

    public ConcurrentQueue<(FrameMetadata Metadata, byte[] Encoded)> Received { get; } = new();

    public Task PublishAsync(FrameMetadata metadata, ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls) - 1;
        Received.Enqueue((metadata, encoded.ToArray()));
        return failOn?.Invoke(call) == true ? Task.FromException(new InvalidOperationException($"broker down (call {call})")) : Task.CompletedTask;
    }
}

internal sealed class RecordingObserver : ICameraPumpObserver
{
    private readonly Lock _lock = new();

    public List<CameraState> States { get; } = [];

    public List<string?> Reasons { get; } = [];

    public List<FrameMetadata> Published { get; } = [];

    public List<(FrameDropReason Reason, string Detail)> Dropped { get; } = [];

    public List<TimeSpan> ReconnectDelays { get; } = [];

    public void StateChanged(string camera, CameraState state, string? reason)
    {
        lock (_lock)
        {
            States.Add(state);
            Reasons.Add(reason);
        }
    }

    public void FramePublished(FrameMetadata metadata)
    {
        lock (_lock)
        {
            Published.Add(metadata);
        }
    }

    public void FrameDropped(string camera, FrameDropReason reason, string detail)
    {
        lock (_lock)
        {
            Dropped.Add((reason, detail));
        }
    }

    public void SourceFailed(string camera, Exception error, TimeSpan reconnectDelay)
    {
        lock (_lock)
        {
            ReconnectDelays.Add(reconnectDelay);
        }
    }
}
