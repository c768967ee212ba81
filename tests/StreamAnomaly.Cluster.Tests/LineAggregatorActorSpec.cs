using Akka.Actor;
using Akka.TestKit.Xunit2;
using StreamAnomaly.Core.Streaming;
using static StreamAnomaly.Cluster.Tests.StreamingFixtures;

namespace StreamAnomaly.Cluster.Tests;

public sealed class LineAggregatorActorSpec() : TestKit("akka.actor.serialize-messages = on")
{
    private static readonly AggregationOptions Options = AggregationOptions.Default with { SmoothingAlpha = 1 };

    [Fact]
    public void A_decided_frame_is_acknowledged_to_its_sender()
    {
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, new RecordingAlarmSink(), NullPipelineObserver.Instance, TimeProvider.System));
        line.Tell(Partial("cam", 1, raw: 2), TestActor);
        var accepted = ExpectMsg<FramesAccepted>();
        Assert.Equal([new FrameKey("cam", 1)], accepted.Frames);
    }

    [Fact]
    public void A_redelivered_frame_is_acknowledged_again()
    {
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, new RecordingAlarmSink(), NullPipelineObserver.Instance, TimeProvider.System));
        line.Tell(Partial("cam", 1, raw: 2), TestActor);
        ExpectMsg<FramesAccepted>();
        line.Tell(Partial("cam", 1, raw: 2), TestActor);
        ExpectMsg<FramesAccepted>();
    }

    [Fact]
    public void Three_hot_frames_publish_a_raised_alarm()
    {
        var sink = new RecordingAlarmSink();
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, sink, NullPipelineObserver.Instance, TimeProvider.System));
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
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", Options, sink, NullPipelineObserver.Instance, TimeProvider.System));
        for (var s = 0; s < 3; s++)
        {
            line.Tell(Partial("cam", s, raw: 19), TestActor);
        }

        AwaitCondition(() => sink.Published.Count == 1, TimeSpan.FromSeconds(5));
        Assert.Equal("A:cam:2/0", sink.Published.Single().IdempotencyKey);
    }

    [Fact]
    public void A_frame_missing_a_detector_is_decided_after_the_join_timeout()
    {
        var options = Options with { JoinTimeout = TimeSpan.FromMilliseconds(200) };
        var line = Sys.ActorOf(LineAggregatorActor.Props("A", options, new RecordingAlarmSink(), NullPipelineObserver.Instance, TimeProvider.System));
        line.Tell(Partial("cam", 1, raw: 2) with { Detectors = 2 }, TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        ExpectMsg<FramesAccepted>(TimeSpan.FromSeconds(2));
    }
}
