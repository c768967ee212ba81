using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// The sharded entity of one production line (role aggregator): a thin shell over
/// <see cref="LineAggregation"/> that keeps the line's state in a journal (Akka.Persistence), so
/// the line survives its node: when a node dies, sharding starts the line on another aggregator
/// node, which replays the journal (from the latest snapshot) before it takes a frame.
/// <list type="bullet">
/// <item>Every decision is written to the journal (<see cref="LineDecision"/>) before anything
/// follows from it: the worker's acknowledgement (so a frame is committed only once its decision
/// is durable, and a frame decided before a crash is a duplicate after it), the observers
/// (metrics, dashboard) and the alarm events. A frame decided in memory but not yet written when
/// the node dies was never acknowledged: its worker sends it again and the new node decides it
/// once.</item>
/// <item>Alarm events go to each sink (Kafka, MQTT) one at a time in the order they happened (a
/// failed publication is retried before anything after it, so a clear never overtakes its raise),
/// each sink on its own. Each publication is written to the journal (<see cref="AlarmSent"/>), so
/// the recovered line sends what its sinks had not confirmed: an alarm is never lost nor raised
/// twice; an event whose confirmation died with the node is sent again with the same idempotency
/// key.</item>
/// <item>Every <see cref="AggregationOptions.SnapshotEvery"/> decisions, at a moment when every
/// write has completed, the state and the unsent alarm events are saved as a snapshot and the
/// journal before it deleted.</item>
/// </list>
/// Refused frames are logged and counted as dropped, lost frames go to the observer.
/// </summary>
public sealed class LineAggregatorActor : ReceivePersistentActor, IWithTimers
{
    private readonly LineAggregation _state;
    private readonly AggregationOptions _options;
    private readonly Outbox[] _outboxes;
    private readonly IPipelineObserver _observer;
    private readonly TimeProvider _time;
    private readonly Dictionary<FrameKey, HashSet<IActorRef>> _waiting = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _writing;
    private int _sinceSnapshot;

    public LineAggregatorActor(string line, AggregationOptions options, IReadOnlyList<IAlarmSink> alarms, IPipelineObserver observer, TimeProvider time, IReadOnlyDictionary<string, double>? cameraFps = null)
    {
        _state = new LineAggregation(line, options, cameraFps);
        _options = options;
        _outboxes = [.. alarms.Select(static sink => new Outbox(sink))];
        if (_outboxes.Select(static o => o.Sink.Name).Distinct(StringComparer.Ordinal).Count() != _outboxes.Length)
        {
            throw new ArgumentException($"alarm sinks need distinct names: {string.Join(", ", _outboxes.Select(static o => o.Sink.Name))}", nameof(alarms));
        }

        _observer = observer;
        _time = time;
        PersistenceId = JournalId(line);

        Recover<SnapshotOffer>(offer => Restore((LineJournalSnapshot)offer.Snapshot));
        Recover<LineDecision>(decision => Enqueue(_state.Replay(decision)));
        Recover<AlarmSent>(Confirmed);
        Recover<RecoveryCompleted>(_ =>
        {
            var unsent = _outboxes.Sum(static o => o.Queue.Count);
            if (LastSequenceNr > 0)
            {
                _log.Info("line {0} recovered to journal entry {1}: active alarm {2}, {3} alarm events to publish", line, LastSequenceNr, _state.ActiveAlarm?.IdempotencyKey ?? "none", unsent);
            }

            var tick = TimeSpan.FromTicks(Math.Clamp(options.JoinTimeout.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
            Timers!.StartPeriodicTimer("join-timeout", Tick.Instance, tick);
            for (var sink = 0; sink < _outboxes.Length; sink++)
            {
                PublishNext(sink);
            }
        });

        Command<PartialResult>(partial =>
        {
            if (!_waiting.TryGetValue(partial.Frame, out var senders))
            {
                senders = [];
                _waiting[partial.Frame] = senders;
            }

            senders.Add(Sender);
            Handle(_state.Apply(partial, _time.GetUtcNow()));
        });
        Command<Tick>(_ => Handle(_state.Tick(_time.GetUtcNow())));
        Command<GetLineStatus>(_ => Sender.Tell(new LineStatus(_state.Line, _state.ActiveAlarm, _state.Pending)));
        Command<AlarmPublished>(published =>
        {
            var outbox = _outboxes[published.Sink];
            var alarm = outbox.Queue.Dequeue();
            outbox.Publishing = false;
            Write([new AlarmSent(outbox.Sink.Name, alarm.IdempotencyKey)]);
            PublishNext(published.Sink);
        });
        Command<RetryAlarm>(retry =>
        {
            _outboxes[retry.Sink].Publishing = false;
            PublishNext(retry.Sink);
        });
        Command<SaveSnapshotSuccess>(saved =>
        {
            DeleteMessages(saved.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failed => _log.Warning("line {0}: snapshot at journal entry {1} not saved ({2}); the journal is kept", line, failed.Metadata.SequenceNr, failed.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failed => _log.Warning("line {0}: journal up to entry {1} not deleted: {2}", line, failed.ToSequenceNr, failed.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning("line {0}: old snapshots not deleted: {1}", line, failed.Cause.Message));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler? Timers { get; set; }

    /// <summary>The journal id of <paramref name="line"/>'s aggregator.</summary>
    public static string JournalId(string line) => $"line-{line}";

    /// <summary>Props for the entity of <paramref name="line"/>, publishing to every one of <paramref name="alarms"/>; <paramref name="cameraFps"/>: the configured frame rate of each camera (see <see cref="LineAggregation"/>).</summary>
    public static Props Props(string line, AggregationOptions options, IReadOnlyList<IAlarmSink> alarms, IPipelineObserver observer, TimeProvider time, IReadOnlyDictionary<string, double>? cameraFps = null) =>
        Akka.Actor.Props.Create(() => new LineAggregatorActor(line, options, alarms, observer, time, cameraFps));

    /// <summary>Writes the decisions among <paramref name="events"/>, then lets everything follow from them (immediately when there is none and nothing is being written).</summary>
    private void Handle(IReadOnlyList<LineEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        var decisions = events.OfType<FrameDecided>().Select(static d => LineDecision.Of(d.Fused)).ToList();
        _sinceSnapshot += decisions.Count;
        if (decisions.Count == 0 && _writing == 0)
        {
            Output(events);
            return;
        }

        Write(decisions);
        _writing++;
        DeferAsync(events, done =>
        {
            Output(done);
            Written();
        });
    }

    /// <summary>Writes journal entries without holding up the next message (their order is kept); snapshots once nothing is being written.</summary>
    private void Write<TEvent>(IReadOnlyList<TEvent> entries)
        where TEvent : class
    {
        if (entries.Count == 0)
        {
            return;
        }

        _writing += entries.Count;
        PersistAllAsync(entries, _ => Written());
    }

    /// <summary>One write (or deferred output) done; when none is left and one is due, saves a snapshot: the state then is exactly what the journal holds.</summary>
    private void Written()
    {
        _writing--;
        if (_writing == 0 && _sinceSnapshot >= _options.SnapshotEvery)
        {
            _sinceSnapshot = 0;
            SaveSnapshot(new LineJournalSnapshot(_state.Snapshot(), [.. _outboxes.Select(static o => new UnsentAlarms(o.Sink.Name, [.. o.Queue]))]));
        }
    }

    private void Output(IReadOnlyList<LineEvent> events)
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
                    Enqueue([changed.Alarm]);
                    for (var sink = 0; sink < _outboxes.Length; sink++)
                    {
                        PublishNext(sink);
                    }

                    break;
            }
        }
    }

    private void Enqueue(IReadOnlyList<AlarmEvent> alarms)
    {
        foreach (var alarm in alarms)
        {
            foreach (var outbox in _outboxes)
            {
                outbox.Queue.Enqueue(alarm);
            }
        }
    }

    private void Restore(LineJournalSnapshot snapshot)
    {
        _state.Restore(snapshot.State);
        foreach (var outbox in _outboxes)
        {
            outbox.Queue.Clear();
            foreach (var alarm in snapshot.Unsent.FirstOrDefault(u => u.Sink == outbox.Sink.Name)?.Alarms ?? [])
            {
                outbox.Queue.Enqueue(alarm);
            }
        }
    }

    /// <summary>A sink's publication read back from the journal: its event leaves that sink's queue.</summary>
    private void Confirmed(AlarmSent sent)
    {
        var outbox = _outboxes.FirstOrDefault(o => o.Sink.Name == sent.Sink);
        if (outbox is not null && outbox.Queue.TryPeek(out var oldest) && oldest.IdempotencyKey == sent.IdempotencyKey)
        {
            outbox.Queue.Dequeue();
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
