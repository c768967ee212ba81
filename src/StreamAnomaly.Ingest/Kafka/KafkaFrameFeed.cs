using System.Collections.Concurrent;
using Confluent.Kafka;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// The workers' at-least-once frame feed over the frames topic (consumer group
/// <see cref="KafkaOptions.ConsumerGroup"/>). Each message is validated and decoded by
/// <see cref="FrameMessageDecoder"/> (headers, camera and line, sequence plausibility, size, JPEG
/// framing, the image header's size against <see cref="KafkaOptions.MaxImage"/> before any
/// decoding). A refused message, and one whose checks fail in any unexpected way
/// (<see cref="DeadLetterReasons.ValidationError"/>), is copied to
/// <see cref="KafkaOptions.DeadLetterTopic"/> (original key, value and headers plus
/// <see cref="FrameHeaders.Reason"/> and <see cref="FrameHeaders.Error"/>) and counts as
/// acknowledged once the dead-letter topic has it: no message can stop the feed. A valid frame
/// goes to the worker.
/// </summary>
/// <remarks>
/// Offsets are never auto-committed: every <see cref="KafkaOptions.CommitIntervalMs"/> (and when
/// partitions are revoked, and on dispose) the feed commits, per partition, the position below
/// which every delivered message was acknowledged (<see cref="OffsetTracker"/>); commit failures
/// (RebalanceInProgress, UnknownMemberId, IllegalGeneration, coordinator moves) are reported to
/// the observer and retried at the next interval. With <see cref="InFlight"/> at
/// <see cref="KafkaOptions.MaxInFlight"/> the feed takes no message until an acknowledgement
/// brings it below; after a second at the bound it also pauses all assigned partitions (the client
/// stops fetching) until half the in-flight frames are acknowledged. The consume loop runs on its own long-running thread and
/// waits at most 100 ms per poll, so it neither blocks the caller nor spins when idle.
/// </remarks>
public sealed class KafkaFrameFeed : IFrameFeed
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long the feed may sit at its in-flight bound before it pauses its partitions (so the
    /// client stops fetching). Not at once: librdkafka restarts a resumed partition's fetching only
    /// after about a second, which would cap a busy worker at MaxInFlight frames per second.
    /// </summary>
    private static readonly TimeSpan PauseAfter = TimeSpan.FromSeconds(1);

    private readonly KafkaOptions _options;
    private readonly FrameMessageDecoder _decoder;
    private readonly TimeProvider _time;
    private readonly IKafkaObserver _observer;
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly IProducer<byte[], byte[]> _deadLetters;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<DeadLetter> _retries = new();

    // Guarded by _gate: touched by the consume thread, Acknowledge callers and delivery reports.
    private readonly object _gate = new();
    private readonly OffsetTracker _tracker = new();
    private readonly HashSet<FrameReceipt> _inFlight = [];

    // Consume thread only (and DisposeAsync after the loop ended).
    private readonly Dictionary<int, long> _lastCommitted = [];
    private volatile bool _paused;
    private long? _fullSince;
    private readonly SemaphoreSlim _acknowledged = new(0, 1);
    private bool _assignmentChanged;

    private Task? _loop;
    private int _started;
    private int _disposed;

    /// <param name="options">Validated options.</param>
    /// <param name="bootstrapServers">The cluster to use (the configured one or <see cref="EmbeddedBroker.BootstrapServers"/>).</param>
    /// <param name="cameraLines">The plant's cameras: camera id -> line id (see <see cref="CameraLines"/>).</param>
    /// <param name="time">Clock of the commit and lag interval and of the capture-time check.</param>
    /// <param name="observer">Metrics and error sink; <see cref="NullKafkaObserver.Instance"/> when null.</param>
    public KafkaFrameFeed(KafkaOptions options, string bootstrapServers, IReadOnlyDictionary<string, string> cameraLines, TimeProvider time, IKafkaObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(bootstrapServers);
        ArgumentNullException.ThrowIfNull(cameraLines);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.EnsureValid();
        _decoder = new FrameMessageDecoder(options, cameraLines, time);
        _time = time;
        _observer = observer ?? NullKafkaObserver.Instance;
        _deadLetters = new ProducerBuilder<byte[], byte[]>(
            KafkaClientConfig.Producer(options, bootstrapServers, options.MaxDeadLetterRecordBytes, "frame-feed-dlq")).Build();
        _consumer = new ConsumerBuilder<byte[], byte[]>(KafkaClientConfig.Consumer(options, bootstrapServers, "frame-feed"))
            .SetPartitionsAssignedHandler((_, _) => _assignmentChanged = true)
            .SetPartitionsRevokedHandler((_, revoked) => OnRevoked(revoked, commit: true))
            .SetPartitionsLostHandler((_, lost) => OnRevoked(lost, commit: false))
            .Build();
    }

    /// <summary>Camera id -> line id of the configured plant; a camera listed twice is an <see cref="ArgumentException"/>.</summary>
    public static IReadOnlyDictionary<string, string> CameraLines(IEnumerable<LineOptions> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            foreach (var camera in line.Cameras)
            {
                if (!map.TryAdd(camera.Id, line.Id))
                {
                    throw new ArgumentException($"camera '{camera.Id}' is configured on line '{map[camera.Id]}' and on line '{line.Id}'", nameof(lines));
                }
            }
        }

        return map;
    }

    /// <summary>True while the partitions are paused (the worker sat at its in-flight bound for a while).</summary>
    public bool IsPaused => _paused;

    /// <inheritdoc />
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>
    /// Starts the consume loop on a dedicated thread and returns at once; the task completes when
    /// <paramref name="cancellationToken"/> is cancelled or the feed is disposed, and faults when
    /// <paramref name="onFrame"/> throws or the client hits a fatal error. A feed runs once.
    /// <paramref name="onFrame"/> is called on the loop thread, in partition order, and must not block.
    /// </summary>
    public Task RunAsync(Action<IncomingFrame> onFrame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onFrame);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("a KafkaFrameFeed runs once; create a new feed to consume again");
        }

        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        _loop = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    Loop(onFrame, linked.Token);
                }
                finally
                {
                    linked.Dispose();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return _loop;
    }

    /// <inheritdoc />
    public void Acknowledge(FrameReceipt receipt)
    {
        lock (_gate)
        {
            if (_inFlight.Remove(receipt))
            {
                _tracker.Acknowledge(receipt.Partition, receipt.Offset);
                if (_acknowledged.CurrentCount == 0)
                {
                    _acknowledged.Release();
                }
            }
        }
    }

    /// <summary>
    /// Stops the loop, waits (up to 10 s) for pending dead letters, commits what was acknowledged,
    /// leaves the group (unacknowledged frames go to other members) and closes the clients.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // RunAsync's caller sees the failure; disposing still releases the clients.
            }
        }

        _deadLetters.Flush(TimeSpan.FromSeconds(10));
        if (Volatile.Read(ref _started) != 0)
        {
            CommitAcknowledged();
            try
            {
                _consumer.Close();
            }
            catch (KafkaException ex)
            {
                _observer.ClientError("consume", $"closing the consumer: {Describe(ex.Error)}");
            }
        }

        _consumer.Dispose();
        _deadLetters.Dispose();
        _stop.Dispose();
    }

    private void Loop(Action<IncomingFrame> onFrame, CancellationToken cancellationToken)
    {
        _consumer.Subscribe(_options.FramesTopic);
        var interval = TimeSpan.FromMilliseconds(_options.CommitIntervalMs);
        var lastCommit = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            UpdatePause();
            RetryDeadLetters(cancellationToken);
            if (_time.GetElapsedTime(lastCommit) >= interval)
            {
                lastCommit = _time.GetTimestamp();
                CommitAcknowledged();
                ReportLag();
            }

            if (_paused || InFlight >= _options.MaxInFlight)
            {
                // At the bound: take nothing more until a frame is acknowledged (librdkafka's
                // prefetch queue, bounded by queued.max.messages.kbytes, holds what was fetched).
                _acknowledged.Wait(PollTimeout, cancellationToken);
                continue;
            }

            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = _consumer.Consume(PollTimeout);
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                _observer.ClientError("consume", Describe(ex.Error));
                continue;
            }

            if (result?.Message is not null && !result.IsPartitionEOF)
            {
                Handle(result, onFrame, cancellationToken);
            }
        }
    }

    private void Handle(ConsumeResult<byte[], byte[]> result, Action<IncomingFrame> onFrame, CancellationToken cancellationToken)
    {
        var partition = result.Partition.Value;
        var offset = result.Offset.Value;
        if (InFlight >= _options.MaxInFlight)
        {
            // Only right after an assignment while paused: give the message back and pause it too.
            _consumer.Seek(result.TopicPartitionOffset);
            _consumer.Pause([result.TopicPartition]);
            return;
        }

        lock (_gate)
        {
            if (!_tracker.Deliver(partition, offset))
            {
                return; // a repeat of a message this assignment already saw
            }
        }

        FrameMetadata metadata;
        Frame image;
        try
        {
            (metadata, image) = _decoder.Decode(result.Message.Headers, result.Message.Value);
        }
        catch (FrameRejectedException rejected)
        {
            SendToDeadLetters(result, rejected.Reason, rejected.Message, cancellationToken);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SendToDeadLetters(result, DeadLetterReasons.ValidationError, $"{ex.GetType().Name}: {ex.Message}", cancellationToken);
            return;
        }

        var receipt = new FrameReceipt(partition, offset);
        lock (_gate)
        {
            _inFlight.Add(receipt);
        }

        _observer.FrameConsumed(metadata);
        onFrame(new IncomingFrame(metadata, image, receipt));
    }

    private static string Describe(Error error) => $"{error.Code}: {error.Reason}";

    private void SendToDeadLetters(ConsumeResult<byte[], byte[]> result, string reason, string detail, CancellationToken cancellationToken)
    {
        var headers = new Headers();
        foreach (var header in result.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        detail = detail.ReplaceLineEndings(" ");
        FrameHeaders.Add(headers, FrameHeaders.Reason, reason);
        FrameHeaders.Add(headers, FrameHeaders.Error, detail.Length <= FrameHeaders.MaxErrorLength ? detail : detail[..FrameHeaders.MaxErrorLength]);
        var message = new Message<byte[], byte[]> { Key = result.Message.Key, Value = result.Message.Value, Headers = headers };
        ProduceDeadLetter(new DeadLetter(result.Partition.Value, result.Offset.Value, reason, detail, message), cancellationToken);
    }

    private void ProduceDeadLetter(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                _deadLetters.Produce(_options.DeadLetterTopic, deadLetter.Message, report => OnDeadLetterDelivered(deadLetter, report));
                return;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull && !cancellationToken.IsCancellationRequested)
            {
                _deadLetters.Flush(PollTimeout); // wait for room in the producer queue
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.MsgSizeTooLarge && deadLetter.Message.Value is { Length: > 0 })
            {
                // Keep the evidence that fits: the headers, the key and why the value is missing.
                var size = deadLetter.Message.Value.Length;
                deadLetter.Message.Headers.Remove(FrameHeaders.Error);
                FrameHeaders.Add(deadLetter.Message.Headers, FrameHeaders.Error, $"{deadLetter.Detail} (value of {size} bytes dropped: above the dead-letter record limit)");
                deadLetter = deadLetter with { Message = new Message<byte[], byte[]> { Key = deadLetter.Message.Key, Value = [], Headers = deadLetter.Message.Headers } };
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                return; // stopping: the message stays unacknowledged and is redelivered later
            }
            catch (ProduceException<byte[], byte[]> ex) when (!ex.Error.IsFatal)
            {
                _observer.ClientError("dead-letter", $"{Describe(ex.Error)} (partition {deadLetter.Partition} offset {deadLetter.Offset}; retried)");
                _retries.Enqueue(deadLetter);
                return;
            }
        }
    }

    // librdkafka's delivery-report thread.
    private void OnDeadLetterDelivered(DeadLetter deadLetter, DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError)
        {
            _observer.ClientError("dead-letter", $"{Describe(report.Error)} (partition {deadLetter.Partition} offset {deadLetter.Offset}; retried)");
            _retries.Enqueue(deadLetter);
            return;
        }

        lock (_gate)
        {
            _tracker.Acknowledge(deadLetter.Partition, deadLetter.Offset);
        }

        _observer.DeadLettered(deadLetter.Reason, deadLetter.Detail);
    }

    private void RetryDeadLetters(CancellationToken cancellationToken)
    {
        var count = _retries.Count;
        while (count-- > 0 && _retries.TryDequeue(out var deadLetter))
        {
            bool pending;
            lock (_gate)
            {
                pending = _tracker.IsPending(deadLetter.Partition, deadLetter.Offset);
            }

            if (pending)
            {
                ProduceDeadLetter(deadLetter, cancellationToken);
            }
        }
    }

    private void UpdatePause()
    {
        var inFlight = InFlight;
        if (inFlight < _options.MaxInFlight)
        {
            _fullSince = null;
        }
        else
        {
            _fullSince ??= _time.GetTimestamp();
        }

        var stalled = _fullSince is { } since && _time.GetElapsedTime(since) >= PauseAfter;
        if (stalled && (!_paused || _assignmentChanged))
        {
            _consumer.Pause(_consumer.Assignment);
            _paused = true;
        }
        else if (_paused && inFlight <= _options.MaxInFlight / 2)
        {
            _consumer.Resume(_consumer.Assignment);
            _paused = false;
        }

        _assignmentChanged = false;
    }

    private void CommitAcknowledged(IReadOnlyCollection<int>? only = null)
    {
        IReadOnlyDictionary<int, long> positions;
        lock (_gate)
        {
            positions = _tracker.CommittablePositions();
        }

        var offsets = positions
            .Where(p => (only is null || only.Contains(p.Key)) && (!_lastCommitted.TryGetValue(p.Key, out var last) || p.Value > last))
            .Select(p => new TopicPartitionOffset(_options.FramesTopic, p.Key, p.Value))
            .ToList();
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            _consumer.Commit(offsets);
            foreach (var offset in offsets)
            {
                Committed(offset);
            }
        }
        catch (TopicPartitionOffsetException ex)
        {
            foreach (var result in ex.Results)
            {
                if (result.Error.IsError)
                {
                    _observer.ClientError("commit", $"partition {result.Partition.Value} offset {result.Offset.Value}: {Describe(result.Error)} (retried)");
                }
                else
                {
                    Committed(result.TopicPartitionOffset);
                }
            }
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            _observer.ClientError("commit", $"{Describe(ex.Error)} (retried at the next interval)");
        }
    }

    private void Committed(TopicPartitionOffset offset)
    {
        _lastCommitted[offset.Partition.Value] = offset.Offset.Value;
        _observer.Committed(offset.Partition.Value, offset.Offset.Value);
    }

    private void ReportLag()
    {
        foreach (var partition in _consumer.Assignment)
        {
            try
            {
                var watermarks = _consumer.GetWatermarkOffsets(partition);
                var position = _consumer.Position(partition);
                if (watermarks.High != Offset.Unset && position != Offset.Unset)
                {
                    _observer.ConsumerLag(partition.Partition.Value, Math.Max(0, watermarks.High.Value - position.Value));
                }
            }
            catch (KafkaException)
            {
                // Not assigned any more, or no position yet: nothing to report.
            }
        }
    }

    // On the consume thread, inside Consume or Close.
    private void OnRevoked(List<TopicPartitionOffset> partitions, bool commit)
    {
        var numbers = partitions.Select(static p => p.Partition.Value).ToHashSet();
        if (commit)
        {
            CommitAcknowledged(numbers);
        }

        lock (_gate)
        {
            foreach (var partition in numbers)
            {
                _tracker.Forget(partition);
                _lastCommitted.Remove(partition);
            }

            _inFlight.RemoveWhere(r => numbers.Contains(r.Partition));
        }

        _assignmentChanged = true;
    }

    private sealed record DeadLetter(int Partition, long Offset, string Reason, string Detail, Message<byte[], byte[]> Message);
}
