using Akka.Actor;
using Akka.Event;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// The sharded entity of one production line (role aggregator): a thin shell over
/// <see cref="LineAggregation"/>. Partial results in; acknowledgements back to the workers that
/// sent them once their frame is decided (or refused); alarms to each alarm sink (Kafka, MQTT), one
/// at a time in the order they happened (a failed publication is retried before anything after it
/// is sent, so a clear never overtakes its raise), each sink on its own, so one sink's outage
/// delays no other; refused frames (logged, counted as dropped) and lost frames to the observer.
/// </summary>
public sealed class LineAggregatorActor : ReceiveActor, IWithTimers
{
    private readonly LineAggregation _state;
    private readonly Outbox[] _outboxes;
    private readonly IPipelineObserver _observer;
    private readonly TimeProvider _time;
    private readonly Dictionary<FrameKey, HashSet<IActorRef>> _waiting = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public LineAggregatorActor(string line, AggregationOptions options, IReadOnlyList<IAlarmSink> alarms, IPipelineObserver observer, TimeProvider time, IReadOnlyDictionary<string, double>? cameraFps = null)
    {
        _state = new LineAggregation(line, options, cameraFps);
        _outboxes = [.. alarms.Select(static sink => new Outbox(sink))];
        _observer = observer;
        _time = time;
        var tick = TimeSpan.FromTicks(Math.Clamp(options.JoinTimeout.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
        Timers!.StartPeriodicTimer("join-timeout", Tick.Instance, tick);

        Receive<PartialResult>(partial =>
        {
            if (!_waiting.TryGetValue(partial.Frame, out var senders))
            {
                senders = [];
                _waiting[partial.Frame] = senders;
            }

            senders.Add(Sender);
            Handle(_state.Apply(partial, _time.GetUtcNow()));
        });
        Receive<Tick>(_ => Handle(_state.Tick(_time.GetUtcNow())));
        Receive<GetLineStatus>(_ => Sender.Tell(new LineStatus(_state.Line, _state.ActiveAlarm, _state.Pending)));
        Receive<AlarmPublished>(published =>
        {
            var outbox = _outboxes[published.Sink];
            outbox.Queue.Dequeue();
            outbox.Publishing = false;
            PublishNext(published.Sink);
        });
        Receive<RetryAlarm>(retry =>
        {
            _outboxes[retry.Sink].Publishing = false;
            PublishNext(retry.Sink);
        });
    }

    public ITimerScheduler? Timers { get; set; }

    /// <summary>Props for the entity of <paramref name="line"/>, publishing to every one of <paramref name="alarms"/>; <paramref name="cameraFps"/>: the configured frame rate of each camera (see <see cref="LineAggregation"/>).</summary>
    public static Props Props(string line, AggregationOptions options, IReadOnlyList<IAlarmSink> alarms, IPipelineObserver observer, TimeProvider time, IReadOnlyDictionary<string, double>? cameraFps = null) =>
        Akka.Actor.Props.Create(() => new LineAggregatorActor(line, options, alarms, observer, time, cameraFps));

    private void Handle(IReadOnlyList<LineEvent> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case FrameAccepted accepted when _waiting.Remove(accepted.Frame, out var senders):
                    var reply = new FramesAccepted([accepted.Frame]);
                    foreach (var sender in senders.Where(static s => !s.IsNobody()))
                    {
                        sender.Tell(reply);
                    }

                    break;
                case FrameDecided decided:
                    _observer.FrameDecided(decided);
                    break;
                case FrameRefused refused:
                    _log.Warning("frame {0} refused: {1}", refused.Frame, refused.Reason);
                    _observer.FramesDropped(DropReasons.ImplausibleSequence, 1);
                    break;
                case FramesLost lost:
                    _observer.FramesLost(lost.Camera, lost.Count);
                    break;
                case AlarmChanged changed:
                    _log.Warning("alarm {0} {1} on line {2} (revision {3}, peak {4:F2}, cameras {5})",
                        changed.Alarm.AlarmId, changed.Alarm.Phase, changed.Alarm.Line, changed.Alarm.Revision, changed.Alarm.PeakScore, string.Join(",", changed.Alarm.Cameras));
                    _observer.AlarmChanged(changed.Alarm);
                    for (var sink = 0; sink < _outboxes.Length; sink++)
                    {
                        _outboxes[sink].Queue.Enqueue(changed.Alarm);
                        PublishNext(sink);
                    }

                    break;
            }
        }
    }

    /// <summary>Sends the oldest alarm event <paramref name="sink"/> has not published yet, unless one is in flight to it.</summary>
    private void PublishNext(int sink)
    {
        var outbox = _outboxes[sink];
        if (outbox.Publishing || !outbox.Queue.TryPeek(out var alarm))
        {
            return;
        }

        outbox.Publishing = true;
        var self = Self;
        var scheduler = Context.System.Scheduler;
        outbox.Sink.PublishAsync(alarm, CancellationToken.None).ContinueWith(
            t =>
            {
                if (t.IsFaulted || t.IsCanceled)
                {
                    // at-least-once: try the same event again in a second (its idempotency key makes repeats harmless)
                    scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), self, new RetryAlarm(sink), ActorRefs.NoSender);
                }
                else
                {
                    self.Tell(new AlarmPublished(sink));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();
    }

    /// <summary>One sink's alarm events not yet published, oldest first, and whether the oldest is in flight.</summary>
    private sealed class Outbox(IAlarmSink sink)
    {
        public IAlarmSink Sink { get; } = sink;

        public Queue<AlarmEvent> Queue { get; } = new();

        public bool Publishing { get; set; }
    }

    private sealed record AlarmPublished(int Sink) : INoSerializationVerificationNeeded;

    private sealed record RetryAlarm(int Sink) : INoSerializationVerificationNeeded;
}
