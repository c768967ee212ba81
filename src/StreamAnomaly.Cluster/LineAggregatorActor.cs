using Akka.Actor;
using Akka.Event;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// The sharded entity of one production line (role aggregator): a thin shell over
/// <see cref="LineAggregation"/>. Partial results in; acknowledgements back to the workers that
/// sent them once their frame is decided (or refused); alarms to the alarm sink, one at a time in
/// the order they happened (a failed publication is retried before anything after it is sent, so a
/// clear never overtakes its raise); refused frames (logged, counted as dropped) and lost frames to
/// the observer.
/// </summary>
public sealed class LineAggregatorActor : ReceiveActor, IWithTimers
{
    private readonly LineAggregation _state;
    private readonly IAlarmSink _alarms;
    private readonly IPipelineObserver _observer;
    private readonly TimeProvider _time;
    private readonly Dictionary<FrameKey, HashSet<IActorRef>> _waiting = [];
    private readonly Queue<AlarmEvent> _outbox = new();
    private bool _publishing;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public LineAggregatorActor(string line, AggregationOptions options, IAlarmSink alarms, IPipelineObserver observer, TimeProvider time, IReadOnlyDictionary<string, double>? cameraFps = null)
    {
        _state = new LineAggregation(line, options, cameraFps);
        _alarms = alarms;
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
        Receive<AlarmPublished>(_ =>
        {
            _outbox.Dequeue();
            _publishing = false;
            PublishNext();
        });
        Receive<RetryAlarm>(_ =>
        {
            _publishing = false;
            PublishNext();
        });
    }

    public ITimerScheduler? Timers { get; set; }

    /// <summary>Props for the entity of <paramref name="line"/>; <paramref name="cameraFps"/>: the configured frame rate of each camera (see <see cref="LineAggregation"/>).</summary>
    public static Props Props(string line, AggregationOptions options, IAlarmSink alarms, IPipelineObserver observer, TimeProvider time, IReadOnlyDictionary<string, double>? cameraFps = null) =>
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
                    _outbox.Enqueue(changed.Alarm);
                    PublishNext();
                    break;
            }
        }
    }

    /// <summary>Sends the oldest unpublished alarm event unless one is in flight.</summary>
    private void PublishNext()
    {
        if (_publishing || !_outbox.TryPeek(out var alarm))
        {
            return;
        }

        _publishing = true;
        var self = Self;
        var scheduler = Context.System.Scheduler;
        _alarms.PublishAsync(alarm, CancellationToken.None).ContinueWith(
            t =>
            {
                if (t.IsFaulted || t.IsCanceled)
                {
                    // at-least-once: try the same event again in a second (its idempotency key makes repeats harmless)
                    scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), self, RetryAlarm.Instance, ActorRefs.NoSender);
                }
                else
                {
                    self.Tell(AlarmPublished.Instance);
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

    private sealed class AlarmPublished : INoSerializationVerificationNeeded
    {
        public static AlarmPublished Instance { get; } = new();
    }

    private sealed class RetryAlarm : INoSerializationVerificationNeeded
    {
        public static RetryAlarm Instance { get; } = new();
    }
}
