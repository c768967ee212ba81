using Akka.Actor;
using Akka.Event;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Cluster;

/// <summary>Worker settings: batching and how long to wait for an aggregator's acknowledgement before resending.</summary>
public sealed record WorkerSettings(BatchingOptions Batching, TimeSpan AckTimeout);

/// <summary>
/// One per worker node. Pulls frames from the feed (Kafka consumer group), batches them across
/// cameras (<see cref="FrameBatcher{T}"/>), lets the <see cref="InferenceActor"/> score them and
/// sends the partial results to the lines' aggregators. A frame is acknowledged to the feed (its
/// offset may then be committed) only when its aggregator confirmed it; unconfirmed partials are
/// resent. Live cameras that fall behind lose their oldest queued frames (newest-frame-wins).
/// Where a detector tracks the machine cycle, each camera's phases run a <see cref="CycleClock"/>
/// and every completed cycle is reported to the observer (cycle-time metrics).
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private readonly IFrameFeed _feed;
    private readonly IActorRef _aggregators;
    private readonly WorkerSettings _settings;
    private readonly IPipelineObserver _observer;
    private readonly Dictionary<string, CycleClock> _cycles = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly FrameBatcher<IncomingFrame> _batcher;
    private readonly Dictionary<FrameKey, InFlight> _unconfirmed = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _inference;
    private bool _busy;

    public WorkerActor(IFrameFeed feed, Props inference, IActorRef aggregators, WorkerSettings settings, Func<string, bool> isLive, IPipelineObserver observer, TimeProvider time)
    {
        _feed = feed;
        _aggregators = aggregators;
        _settings = settings;
        _observer = observer;
        _time = time;
        _batcher = new FrameBatcher<IncomingFrame>(settings.Batching, static f => f.Metadata.Key, isLive);
        _inference = Context.ActorOf(inference, "inference");

        Receive<FrameArrived>(arrived =>
        {
            var dropped = _batcher.Enqueue(arrived.Frame, _time.GetUtcNow());
            if (dropped.Count > 0)
            {
                foreach (var frame in dropped)
                {
                    _feed.Acknowledge(frame.Receipt);
                }

                _observer.FramesDropped(DropReasons.Stale, dropped.Count);
            }

            Dispatch();
        });
        Receive<BatchDue>(_ => Dispatch());
        Receive<BatchScored>(OnScored);
        Receive<FramesAccepted>(accepted =>
        {
            foreach (var key in accepted.Frames)
            {
                if (_unconfirmed.Remove(key, out var inFlight))
                {
                    foreach (var receipt in inFlight.Receipts)
                    {
                        _feed.Acknowledge(receipt);
                    }
                }
            }
        });
        Receive<ResendDue>(_ => Resend());
        Receive<SwapScorers>(swap => _inference.Forward(swap));
        Receive<ReplaceBundle>(replace => _inference.Forward(replace));
        Receive<FeedStopped>(stopped =>
        {
            if (!_stop.IsCancellationRequested)
            {
                // A feed runs once: without it the worker is useless, so it stops and the node
                // reports itself unhealthy (its orchestrator restarts it; Kafka hands the
                // unacknowledged frames to the other workers).
                _log.Error(stopped.Error, "frame feed stopped; stopping the worker");
                Context.Stop(Self);
            }
        });
    }

    public ITimerScheduler? Timers { get; set; }

    /// <summary>Props for a worker over <paramref name="feed"/>; <paramref name="inference"/> builds its inference child.</summary>
    public static Props Props(IFrameFeed feed, Props inference, IActorRef aggregators, WorkerSettings settings, Func<string, bool> isLive, IPipelineObserver observer, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new WorkerActor(feed, inference, aggregators, settings, isLive, observer, time));

    protected override void PreStart()
    {
        var self = Self;
        Timers!.StartPeriodicTimer("resend", ResendDue.Instance, _settings.AckTimeout / 2);
        _feed.RunAsync(frame => self.Tell(new FrameArrived(frame)), _stop.Token).ContinueWith(
            t => self.Tell(new FeedStopped(t.Exception?.GetBaseException())),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private void Dispatch()
    {
        if (_busy)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var batch = _batcher.TakeReady(now);
        if (batch.Count > 0)
        {
            _busy = true;
            _inference.Tell(new ScoreBatch(batch));
        }
        else if (_batcher.DueIn(now) is { } due)
        {
            Timers!.StartSingleTimer("batch", BatchDue.Instance, due);
        }
    }

    private void OnScored(BatchScored scored)
    {
        _busy = false;
        var now = _time.GetUtcNow();
        var failed = 0;
        for (var i = 0; i < scored.Frames.Count; i++)
        {
            var frame = scored.Frames[i];
            var partials = scored.Partials[i];
            if (partials.Length == 0)
            {
                // its detectors failed on it: nothing to decide, so it is let go (and counted)
                _feed.Acknowledge(frame.Receipt);
                failed++;
                continue;
            }

            var key = frame.Metadata.Key;
            if (_unconfirmed.TryGetValue(key, out var existing))
            {
                existing.Receipts.Add(frame.Receipt);
            }
            else
            {
                _unconfirmed[key] = new InFlight([frame.Receipt], partials, now);
            }

            foreach (var partial in partials)
            {
                _aggregators.Tell(partial);
            }

            TrackCycle(partials);
        }

        if (failed < scored.Frames.Count)
        {
            _observer.BatchScored(scored.Frames.Count - failed, scored.Took);
        }

        if (failed > 0)
        {
            _observer.FramesDropped(DropReasons.InferenceError, failed);
        }

        Dispatch();
    }

    /// <summary>Feeds the camera's cycle clock from the first partial that knows the frame's phase.</summary>
    private void TrackCycle(PartialResult[] partials)
    {
        if (partials.FirstOrDefault(static p => p.Phase is >= 0 and < 1) is not { Phase: { } phase } timing)
        {
            return;
        }

        var camera = timing.Frame.Camera;
        if (!_cycles.TryGetValue(camera, out var clock))
        {
            clock = new CycleClock();
            _cycles[camera] = clock;
        }

        if (clock.Observe(timing.CaptureTime, phase, timing.Calibration.Normalize(timing.RawScore)) is { } cycle)
        {
            _observer.CycleCompleted(camera, timing.Line, cycle);
        }
    }

    private void Resend()
    {
        var now = _time.GetUtcNow();
        var due = _unconfirmed.Values.Where(f => now - f.SentAt >= _settings.AckTimeout).ToList();
        foreach (var inFlight in due)
        {
            inFlight.SentAt = now;
            foreach (var partial in inFlight.Partials)
            {
                _aggregators.Tell(partial);
            }
        }

        if (due.Count > 0)
        {
            _observer.PartialsResent(due.Count);
        }
    }

    private sealed class InFlight(List<FrameReceipt> receipts, PartialResult[] partials, DateTimeOffset sentAt)
    {
        public List<FrameReceipt> Receipts { get; } = receipts;

        public PartialResult[] Partials { get; } = partials;

        public DateTimeOffset SentAt { get; set; } = sentAt;
    }

    private sealed class BatchDue
    {
        public static BatchDue Instance { get; } = new();
    }

    private sealed class ResendDue
    {
        public static ResendDue Instance { get; } = new();
    }

    private sealed record FeedStopped(Exception? Error) : INoSerializationVerificationNeeded;
}
