using OpenCvSharp;
using Polly;
using Polly.Retry;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// Runs one camera: source -&gt; frame-rate control -&gt; ROI crop and resize (OpenCV) -&gt; JPEG -&gt;
/// <see cref="IFrameSink"/>, with reconnects, a stall watchdog and counters.
/// <list type="bullet">
/// <item>Frame rate: at most <see cref="CameraOptions.Fps"/> frames per second. A non-live source
/// (file, folder) is paced by waiting on the <see cref="TimeProvider"/>, so a file plays at Fps
/// (published frames at least 1/Fps apart). A live source's frames are taken on slots 1/Fps apart:
/// a frame more than half a period before the next slot is dropped
/// (<see cref="FrameDropReason.RateLimited"/>); a late frame moves the slots to itself. So n + 1
/// published live frames span at least (n - 1/2) / Fps seconds (the long-run rate is at most Fps),
/// two are at least 1/(2 Fps) apart, and a camera
/// delivering exactly Fps with timing jitter below half a period loses none (a strict "at least
/// 1/Fps after the last one" rule would drop every frame that came a little early).</item>
/// <item>Output: the ROI (if any, in source pixels) is cropped, then resized to
/// <see cref="CameraOptions.Width"/> x <see cref="CameraOptions.Height"/> (area interpolation when
/// shrinking, linear when enlarging), then JPEG-encoded. A frame the ROI does not fit (also after a
/// mid-stream size change) is dropped and reported (<see cref="FrameDropReason.FrameError"/>).</item>
/// <item>Sequence numbers start at the caller's first number and grow by one per frame handed to
/// the sink, including frames the sink then failed on (the broker may have stored them), so a
/// number is never reused; <see cref="NextSequence"/> is the next one. Capture time is the
/// clock's time when the frame was taken for publishing.</item>
/// <item>Reconnect: when the source throws, the pump reports Offline and reads again after an
/// exponential back-off with jitter (Polly retry, unlimited attempts, from
/// <see cref="CameraPumpOptions.ReconnectBaseDelay"/> up to <see cref="CameraPumpOptions.ReconnectMaxDelay"/>);
/// the back-off restarts from the base delay once a connection delivered frames. Online is
/// reported on the first frame of each connection.</item>
/// <item>Stall watchdog: no frame for <see cref="CameraPumpOptions.StallTimeout"/> while waiting on
/// a connected source reports Stalled; the next frame reports Online again.</item>
/// <item>A finite source's normal end reports Ended and <see cref="RunAsync"/> returns; cancellation
/// makes it throw <see cref="OperationCanceledException"/>. Sink failures are counted and skipped.</item>
/// </list>
/// The pump neither owns nor disposes the source or the sink. One <see cref="RunAsync"/> at a time.
/// </summary>
public sealed class CameraPump
{
    private readonly CameraOptions _camera;
    private readonly string _line;
    private readonly ICameraSource _source;
    private readonly IFrameSink _sink;
    private readonly TimeProvider _time;
    private readonly ICameraPumpObserver _observer;
    private readonly CameraPumpOptions _options;
    private readonly TimeSpan _period;
    private readonly ResiliencePipeline _reconnect;
    private readonly Lock _gate = new();

    private CameraState _state = CameraState.Starting;
    private long _nextSequence;
    private long _published, _sourceErrors, _skippedByRate, _frameErrors, _sinkErrors;
    private int _running;
    private bool _waitingOnSource;
    private long _waitingSince;
    private bool _reportedStarting;
    private DateTimeOffset? _lastPublishedAt;
    private DateTimeOffset? _nextDue;
    private DateTimeOffset? _nextLiveDue;
    private ITimer? _watchdog;

    /// <param name="camera">The camera: id, Fps, published size, ROI (validated here).</param>
    /// <param name="line">Production line id (<see cref="Ids.IsValid"/>).</param>
    /// <param name="source">Where frames come from (not disposed by the pump).</param>
    /// <param name="sink">Where encoded frames go (not disposed by the pump).</param>
    /// <param name="time">The clock for pacing, capture times, back-off and the watchdog.</param>
    /// <param name="firstSequence">Sequence number of the first published frame (&gt;= 0); pick it so a restarted camera never reuses numbers.</param>
    /// <param name="observer">Gets state changes and per-frame events; null for none.</param>
    /// <param name="options">Tuning; null for <see cref="CameraPumpOptions.Default"/>.</param>
    public CameraPump(
        CameraOptions camera,
        string line,
        ICameraSource source,
        IFrameSink sink,
        TimeProvider time,
        long firstSequence,
        ICameraPumpObserver? observer = null,
        CameraPumpOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegative(firstSequence);
        if (!Ids.IsValid(camera.Id))
        {
            throw new ArgumentException($"invalid camera id '{camera.Id}'", nameof(camera));
        }

        if (!Ids.IsValid(line))
        {
            throw new ArgumentException($"camera '{camera.Id}': invalid line id '{line}'", nameof(line));
        }

        if (!(camera.Fps > 0) || double.IsInfinity(camera.Fps) || camera.Width <= 0 || camera.Height <= 0)
        {
            throw new ArgumentException($"camera '{camera.Id}': Fps, Width and Height must be > 0 (got {camera.Fps}, {camera.Width}, {camera.Height})", nameof(camera));
        }

        if (camera.Roi is { } roi && (roi.X < 0 || roi.Y < 0 || roi.Width <= 0 || roi.Height <= 0))
        {
            throw new ArgumentException($"camera '{camera.Id}': ROI {roi} needs X, Y >= 0 and Width, Height > 0", nameof(camera));
        }

        options ??= CameraPumpOptions.Default;
        options.Validate();
        _camera = camera;
        _line = line;
        _source = source;
        _sink = sink;
        _time = time;
        _observer = observer ?? NullObserver.Instance;
        _options = options;
        _period = TimeSpan.FromSeconds(1 / camera.Fps);
        _nextSequence = firstSequence;
        _reconnect = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex && !(ex is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.ReconnectJitter,
                Delay = options.ReconnectBaseDelay,
                MaxDelay = options.ReconnectMaxDelay,
                OnRetry = args =>
                {
                    lock (_gate)
                    {
                        _observer.SourceFailed(_camera.Id, args.Outcome.Exception!, args.RetryDelay);
                    }

                    return default;
                },
            })
            .Build();
    }

    /// <summary>The camera's current state.</summary>
    public CameraState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Sequence number the next published frame gets.</summary>
    public long NextSequence => Interlocked.Read(ref _nextSequence);

    /// <summary>A consistent snapshot of the counters.</summary>
    public CameraPumpCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new(_published, _sourceErrors, _skippedByRate, _frameErrors, _sinkErrors);
            }
        }
    }

    /// <summary>
    /// Pumps until the source ends (returns, state Ended) or <paramref name="cancellationToken"/> is
    /// cancelled (throws <see cref="OperationCanceledException"/>). Never throws for source, frame
    /// or sink errors.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"camera '{_camera.Id}': the pump is already running");
        }

        try
        {
            lock (_gate)
            {
                if (!_reportedStarting)
                {
                    _reportedStarting = true;
                    _observer.StateChanged(_camera.Id, CameraState.Starting, _source.Description);
                }
            }

            using var watchdog = _time.CreateTimer(static s => ((CameraPump)s!).OnWatchdog(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _watchdog = watchdog;
            while (true)
            {
                var dropped = await _reconnect.ExecuteAsync(async token => await ReadConnectionAsync(watchdog, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                if (dropped is null)
                {
                    SetState(CameraState.Ended, "the source has no more frames");
                    return;
                }

                // The connection delivered frames before it failed: back-off starts again from the base delay.
                lock (_gate)
                {
                    _observer.SourceFailed(_camera.Id, dropped, _options.ReconnectBaseDelay);
                }

                await Task.Delay(_options.ReconnectBaseDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _watchdog = null;
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Reads one connection: null when the source ended normally; the error when it failed after
    /// delivering frames; throws (for Polly to retry with back-off) when it failed before any frame.
    /// </summary>
    private async ValueTask<Exception?> ReadConnectionAsync(ITimer watchdog, CancellationToken cancellationToken)
    {
        var hadFrames = false;
        try
        {
            var frames = _source.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using (frames.ConfigureAwait(false))
            {
                while (true)
                {
                    ArmWatchdog(watchdog);
                    if (!await frames.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    DisarmWatchdog(watchdog);
                    hadFrames = true;
                    SetState(CameraState.Online, null);
                    await HandleFrameAsync(frames.Current, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            DisarmWatchdog(watchdog);
            lock (_gate)
            {
                _sourceErrors++;
            }

            SetState(CameraState.Offline, $"{_source.Description}: {ex.Message}");
            if (hadFrames)
            {
                return ex;
            }

            throw;
        }
        finally
        {
            DisarmWatchdog(watchdog);
        }

        return null;
    }

    private async Task HandleFrameAsync(Frame frame, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_source.IsLive)
        {
            // Slots of 1/Fps: a frame is taken when it arrives no earlier than half a period before
            // its slot, so a camera running at Fps with timing jitter keeps all its frames; the
            // next slot is one period after this slot, or after this frame when it came late.
            if (_nextLiveDue is { } slot && now < slot - (_period / 2))
            {
                var since = _lastPublishedAt is { } last ? (now - last).TotalMilliseconds : double.NaN;
                Drop(FrameDropReason.RateLimited, $"{since:F0} ms after the last published frame (period {_period.TotalMilliseconds:F0} ms)");
                return;
            }

            _nextLiveDue = _nextLiveDue is { } due && due > now ? due + _period : now + _period;
        }
        else
        {
            if (_nextDue is { } due && now < due)
            {
                await Task.Delay(due - now, _time, cancellationToken).ConfigureAwait(false);
                now = _time.GetUtcNow();
            }

            _nextDue = (_nextDue is { } d && d > now ? d : now) + _period;
        }

        if (!TryPrepare(frame, out var encoded, out var problem))
        {
            Drop(FrameDropReason.FrameError, problem);
            return;
        }

        var metadata = new FrameMetadata(_camera.Id, _line, Interlocked.Increment(ref _nextSequence) - 1, now, _camera.Width, _camera.Height);
        _lastPublishedAt = now;
        try
        {
            await _sink.PublishAsync(metadata, encoded, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Drop(FrameDropReason.SinkError, $"frame {metadata.Key}: {ex.Message}");
            return;
        }

        lock (_gate)
        {
            _published++;
            _observer.FramePublished(metadata);
        }
    }

    /// <summary>Crop, resize and encode; false with a one-line problem when the frame cannot be prepared.</summary>
    private bool TryPrepare(Frame frame, out byte[] encoded, out string problem)
    {
        encoded = [];
        if (_camera.Roi is { } roi && (roi.X + roi.Width > frame.Width || roi.Y + roi.Height > frame.Height))
        {
            problem = $"ROI (x {roi.X}, y {roi.Y}, {roi.Width}x{roi.Height}) is outside the {frame.Width}x{frame.Height} frame";
            return false;
        }

        try
        {
            using var full = ImageCodec.ToMat(frame);
            using var region = _camera.Roi is { } r ? new Mat(full, new Rect(r.X, r.Y, r.Width, r.Height)) : full.Clone();
            Frame output;
            if (region.Width == _camera.Width && region.Height == _camera.Height)
            {
                output = ImageCodec.ToFrame(region);
            }
            else
            {
                using var resized = new Mat();
                var shrinking = region.Width > _camera.Width || region.Height > _camera.Height;
                Cv2.Resize(region, resized, new Size(_camera.Width, _camera.Height), interpolation: shrinking ? InterpolationFlags.Area : InterpolationFlags.Linear);
                output = ImageCodec.ToFrame(resized);
            }

            encoded = ImageCodec.EncodeJpeg(output, _options.JpegQuality);
            problem = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is OpenCVException or InvalidOperationException or ArgumentException)
        {
            problem = $"cannot prepare a {frame.Width}x{frame.Height} frame: {ex.Message}";
            return false;
        }
    }

    private void Drop(FrameDropReason reason, string detail)
    {
        lock (_gate)
        {
            switch (reason)
            {
                case FrameDropReason.RateLimited:
                    _skippedByRate++;
                    break;
                case FrameDropReason.FrameError:
                    _frameErrors++;
                    break;
                default:
                    _sinkErrors++;
                    break;
            }

            _observer.FrameDropped(_camera.Id, reason, detail);
        }
    }

    private void SetState(CameraState state, string? reason)
    {
        lock (_gate)
        {
            if (_state == state)
            {
                return;
            }

            _state = state;
            _observer.StateChanged(_camera.Id, state, reason);
        }
    }

    private void ArmWatchdog(ITimer watchdog)
    {
        lock (_gate)
        {
            _waitingOnSource = true;
            _waitingSince = _time.GetTimestamp();
        }

        watchdog.Change(_options.StallTimeout, Timeout.InfiniteTimeSpan);
    }

    private void DisarmWatchdog(ITimer watchdog)
    {
        lock (_gate)
        {
            _waitingOnSource = false;
        }

        watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void OnWatchdog()
    {
        lock (_gate)
        {
            // A tick queued just before a frame arrived (or before re-arming) must not count.
            if (!_waitingOnSource || _state is not (CameraState.Online or CameraState.Starting))
            {
                return;
            }

            var waited = _time.GetElapsedTime(_waitingSince);
            if (waited < _options.StallTimeout)
            {
                _watchdog?.Change(_options.StallTimeout - waited, Timeout.InfiniteTimeSpan);
                return;
            }

            _state = CameraState.Stalled;
            _observer.StateChanged(_camera.Id, CameraState.Stalled, $"no frame for {_options.StallTimeout.TotalSeconds:0.###} s");
        }
    }

    private sealed class NullObserver : ICameraPumpObserver
    {
        public static NullObserver Instance { get; } = new();
    }
}
