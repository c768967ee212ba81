using Akka.Actor;
using Akka.TestKit.Xunit2;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using static StreamAnomaly.Cluster.Tests.StreamingFixtures;

namespace StreamAnomaly.Cluster.Tests;

public sealed class LineAggregatorActorSpec() : TestKit($"akka.actor.serialize-messages = on\n{Patient}\n{InMemoryJournal}")
{
    private static readonly AggregationOptions Options = AggregationOptions.Default with { SmoothingAlpha = 1 };

    [Fact]
    public void A_decided_frame_is_acknowledged_to_its_sender()
    {
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [new RecordingAlarmSink()], NullPipelineObserver.Instance, TimeProvider.System));
        line.Tell(Partial("cam", 1, raw: 2), TestActor);
        var accepted = ExpectMsg<FramesAccepted>();
        Assert.Equal([new FrameKey("cam", 1)], accepted.Frames);
    }

    [Fact]
    public void A_redelivered_frame_is_acknowledged_again()
    {
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [new RecordingAlarmSink()], NullPipelineObserver.Instance, TimeProvider.System));
        line.Tell(Partial("cam", 1, raw: 2), TestActor);
        ExpectMsg<FramesAccepted>();
        line.Tell(Partial("cam", 1, raw: 2), TestActor);
        ExpectMsg<FramesAccepted>();
    }

    [Fact]
    public void Three_hot_frames_publish_a_raised_alarm()
    {
        var sink = new RecordingAlarmSink();
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [sink], NullPipelineObserver.Instance, TimeProvider.System));
        for (var s = 0; s < 3; s++)
        {
            line.Tell(Partial("cam", s, raw: 19), TestActor);
        }

        ReceiveN(3);
        AwaitCondition(() => sink.Published.Count == 1);
        Assert.Equal(AlarmPhase.Raised, sink.Published.Single().Phase);
        line.Tell(new GetLineStatus("A"), TestActor);
        Assert.Equal("A:cam:2", ExpectMsg<LineStatus>().ActiveAlarm?.AlarmId);
    }

    [Fact]
    public void A_failed_alarm_publication_is_retried()
    {
        var sink = new RecordingAlarmSink(failures: 2);
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [sink], NullPipelineObserver.Instance, TimeProvider.System));
        for (var s = 0; s < 3; s++)
        {
            line.Tell(Partial("cam", s, raw: 19), TestActor);
        }

        AwaitCondition(() => sink.Published.Count == 1, TimeSpan.FromSeconds(5));
        Assert.Equal("A:cam:2/0", sink.Published.Single().IdempotencyKey);
    }

    [Fact]
    public void An_alarms_raise_update_and_clear_are_published_in_order_even_when_the_raise_must_be_retried()
    {
        var sink = new RecordingAlarmSink(failures: 2);
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [sink], NullPipelineObserver.Instance, TimeProvider.System));
        var raws = new double[] { 19, 19, 19, 20 }.Concat(Enumerable.Repeat(0.0, 16)).ToArray();
        for (var s = 0; s < raws.Length; s++)
        {
            line.Tell(Partial("cam", s, raw: raws[s]), TestActor);
        }

        ReceiveN(raws.Length);
        AwaitCondition(() => sink.Published.Count == 3, TimeSpan.FromSeconds(10));
        Assert.Equal(
            [(AlarmPhase.Raised, 0), (AlarmPhase.Updated, 1), (AlarmPhase.Cleared, 2)],
            sink.Published.Select(static a => (a.Phase, a.Revision)).ToArray());
    }

    [Fact]
    public void A_sink_that_keeps_failing_delays_no_other_sink()
    {
        var (down, up) = (new RecordingAlarmSink(failures: int.MaxValue, name: "down"), new RecordingAlarmSink(name: "up"));
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [down, up], NullPipelineObserver.Instance, TimeProvider.System));
        var raws = new double[] { 19, 19, 19, 20 }.Concat(Enumerable.Repeat(0.0, 16)).ToArray();
        for (var s = 0; s < raws.Length; s++)
        {
            line.Tell(Partial("cam", s, raw: raws[s]), TestActor);
        }

        ReceiveN(raws.Length);
        AwaitCondition(() => up.Published.Count == 3, TimeSpan.FromSeconds(5));
        Assert.Equal([AlarmPhase.Raised, AlarmPhase.Updated, AlarmPhase.Cleared], up.Published.Select(static a => a.Phase));
        Assert.Empty(down.Published);
    }

    [Fact]
    public void A_line_restarted_from_its_journal_keeps_its_alarm_and_does_not_raise_it_again()
    {
        var first = new RecordingAlarmSink(name: "kafka");
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [first], NullPipelineObserver.Instance, TimeProvider.System));
        SendAll(line, Enumerable.Range(0, 3).Select(static s => Partial("cam", s, raw: 19)));
        AwaitCondition(() => first.Published.Count == 1);
        line.Tell(new GetLineStatus("A"), TestActor);
        ExpectMsg<LineStatus>(); // the publication's confirmation is in the journal's mailbox before the line stops
        Restart(line);

        var second = new RecordingAlarmSink(name: "kafka");
        var again = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [second], NullPipelineObserver.Instance, TimeProvider.System));
        again.Tell(new GetLineStatus("A"), TestActor);
        Assert.Equal("A:cam:2", ExpectMsg<LineStatus>().ActiveAlarm?.AlarmId);
        SendAll(again, Enumerable.Range(3, 3).Select(static s => Partial("cam", s, raw: 19)));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Empty(second.Published);
    }

    [Fact]
    public void A_frame_decided_before_the_restart_is_a_duplicate_after_it()
    {
        var observer = new LossObserver();
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [new RecordingAlarmSink()], observer, TimeProvider.System));
        SendAll(line, [Partial("cam", 1, raw: 2)]);
        Restart(line);

        var again = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [new RecordingAlarmSink()], observer, TimeProvider.System));
        again.Tell(Partial("cam", 1, raw: 2), TestActor);
        Assert.Equal([new FrameKey("cam", 1)], ExpectMsg<FramesAccepted>().Frames);
        Assert.Equal(1, observer.Decided);
    }

    [Fact]
    public void An_alarm_event_unpublished_when_the_line_stopped_is_published_after_its_restart()
    {
        var down = new RecordingAlarmSink(failures: int.MaxValue, name: "kafka");
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [down], NullPipelineObserver.Instance, TimeProvider.System));
        SendAll(line, Enumerable.Range(0, 3).Select(static s => Partial("cam", s, raw: 19)));
        Restart(line);

        var up = new RecordingAlarmSink(name: "kafka");
        Sys.ActorOf(LineAggregatorActor.Props("A", Options, [up], NullPipelineObserver.Instance, TimeProvider.System));
        AwaitCondition(() => up.Published.Count == 1, TimeSpan.FromSeconds(5));
        Assert.Equal("A:cam:2/0", up.Published.Single().IdempotencyKey);
        Assert.Empty(down.Published);
    }

    [Fact]
    public void A_line_restored_from_a_snapshot_keeps_its_alarm_its_decided_frames_and_its_unpublished_events()
    {
        var options = Options with { SnapshotEvery = 2 };
        var (up, down) = (new RecordingAlarmSink(name: "kafka"), new RecordingAlarmSink(failures: int.MaxValue, name: "mqtt"));
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", options, [up, down], NullPipelineObserver.Instance, TimeProvider.System));
        SendAll(line, Enumerable.Range(0, 7).Select(static s => Partial("cam", s, raw: 19)));
        AwaitCondition(() => up.Published.Count == 1);
        line.Tell(new GetLineStatus("A"), TestActor);
        ExpectMsg<LineStatus>(); // the publication's confirmation is in the journal's mailbox before the line stops
        Restart(line);

        var (kafka, mqtt) = (new RecordingAlarmSink(name: "kafka"), new RecordingAlarmSink(name: "mqtt"));
        var again = Sys.ActorOf(LineAggregatorActor.Props("A", options, [kafka, mqtt], NullPipelineObserver.Instance, TimeProvider.System));
        again.Tell(new GetLineStatus("A"), TestActor);
        Assert.Equal("A:cam:2", ExpectMsg<LineStatus>().ActiveAlarm?.AlarmId);
        AwaitCondition(() => mqtt.Published.Count == 1, TimeSpan.FromSeconds(5));
        Assert.Equal("A:cam:2/0", mqtt.Published.Single().IdempotencyKey);
        Assert.Empty(kafka.Published);
        SendAll(again, [Partial("cam", 4, raw: 19)]);
    }

    [Fact]
    public void A_frame_missing_a_detector_is_decided_after_the_join_timeout()
    {
        var options = Options with { JoinTimeout = TimeSpan.FromMilliseconds(200) };
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", options, [new RecordingAlarmSink()], NullPipelineObserver.Instance, TimeProvider.System));
        line.Tell(Partial("cam", 1, raw: 2) with { Detectors = 2 }, TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        ExpectMsg<FramesAccepted>(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_frame_with_an_implausible_sequence_is_acknowledged_and_counted_as_dropped()
    {
        var observer = new LossObserver();
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [new RecordingAlarmSink()], observer, TimeProvider.System));
        var forged = Partial("cam", 1, raw: 2) with { Frame = new FrameKey("cam", 9_100_000_000_000_000_000) };
        line.Tell(forged, TestActor);
        Assert.Equal([forged.Frame], ExpectMsg<FramesAccepted>().Frames);
        AwaitCondition(() => observer.Dropped.GetValueOrDefault(DropReasons.ImplausibleSequence) == 1);
        Assert.Equal(0, observer.Decided);
    }

    [Fact]
    public void Skipped_frame_numbers_are_reported_as_lost_per_camera()
    {
        var observer = new LossObserver();
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, [new RecordingAlarmSink()], observer, TimeProvider.System, new Dictionary<string, double> { ["cam"] = 5 }));
        foreach (var sequence in new[] { 0, 1, 5 })
        {
            line.Tell(Partial("cam", sequence, raw: 2), TestActor);
        }

        ReceiveN(3);
        AwaitCondition(() => observer.Lost.GetValueOrDefault("cam") == 3);
    }

    /// <summary>Sends every partial and waits for each one's acknowledgement.</summary>
    private void SendAll(IActorRef line, IEnumerable<PartialResult> partials)
    {
        var count = 0;
        foreach (var partial in partials)
        {
            line.Tell(partial, TestActor);
            count++;
        }

        Assert.Equal(count, ReceiveN(count).OfType<FramesAccepted>().Count());
    }

    /// <summary>Stops the line's actor and waits until it is gone: its state is then only in the journal.</summary>
    private void Restart(IActorRef line)
    {
        Watch(line);
        Sys.Stop(line);
        ExpectTerminated(line);
    }

    private sealed class LossObserver : IPipelineObserver
    {
        private int _decided;

        public System.Collections.Concurrent.ConcurrentDictionary<string, long> Lost { get; } = new();

        public System.Collections.Concurrent.ConcurrentDictionary<string, int> Dropped { get; } = new();

        public int Decided => Volatile.Read(ref _decided);

        public void CameraStateChanged(string camera, string line, CameraState state) { }

        public void BatchScored(int frames, TimeSpan took) { }

        public void FramesDropped(string reason, int count) => Dropped.AddOrUpdate(reason, count, (_, n) => n + count);

        public void PartialsResent(int count) { }

        public void FrameDecided(FrameDecided decided) => Interlocked.Increment(ref _decided);

        public void FramesLost(string camera, long count) => Lost.AddOrUpdate(camera, count, (_, n) => n + count);

        public void AlarmChanged(AlarmEvent alarm) { }

        public void CycleCompleted(string camera, string line, CycleRecord cycle) { }
    }
}
