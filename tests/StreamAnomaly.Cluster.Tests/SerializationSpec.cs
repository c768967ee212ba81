using Akka.TestKit.Xunit2;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster.Tests;

/// <summary>Every message that crosses nodes survives the configured serializer unchanged.</summary>
public sealed class SerializationSpec() : TestKit(NodeOptions.BaseConfig)
{
    public static TheoryData<object> CrossNodeMessages() => new(
        StreamingFixtures.Partial("cam-1", 42, 12.5, "line-b"),
        new FramesAccepted([new FrameKey("cam-1", 42), new FrameKey("cam-2", 7)]),
        new EnsureCamera("cam-1"),
        new InjectAnomaly("cam-1", "dropped-part"),
        new AnomalyInjection("cam-1", "dropped-part", StreamingFixtures.T0, null),
        new AnomalyInjection("cam-1", "x", StreamingFixtures.T0, "unknown kind"),
        new GetLineStatus("line-b"),
        new LineStatus("line-b", new AlarmEvent("line-b", "line-b:cam-1:42", AlarmPhase.Updated, 2, StreamingFixtures.T0, 0.8, ["cam-1", "cam-2"]), 3),
        new LineStatus("line-b", null, 0));

    [Theory]
    [MemberData(nameof(CrossNodeMessages))]
    public void A_cross_node_message_round_trips(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var back = serializer.FromBinary(serializer.ToBinary(message), message.GetType());
        Assert.IsType(message.GetType(), back);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()), System.Text.Json.JsonSerializer.Serialize(back, message.GetType()));
    }

    [Fact]
    public void A_partial_result_stays_far_below_the_remote_frame_size()
    {
        var partial = new PartialResult(new FrameKey("camera-with-a-long-name-01", long.MaxValue), "line-with-a-long-name", StreamingFixtures.T0, "integrated", 2, 1e6,
            StreamingFixtures.Calibration, new ResidualGrid(32, 32, 1e3f, new byte[1024]), new MaskGrid(32, 32, new byte[1024]));
        var bytes = Sys.Serialization.FindSerializerFor(partial).ToBinary(partial);
        Assert.InRange(bytes.Length, 1, 8_000);
    }
}
