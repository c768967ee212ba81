using Akka.TestKit.Xunit2;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster.Tests;

/// <summary>Every message that crosses nodes survives the configured serializer unchanged.</summary>
public sealed class SerializationSpec() : TestKit(NodeOptions.BaseConfig)
{
    public static TheoryData<object> CrossNodeMessages() => new(
        StreamingFixtures.Partial("cam-1", 42, 12.5, "line-b"),
        StreamingFixtures.Partial("cam-1", 43, 0.5, "line-b") with { Phase = 0.25 },
        StreamingFixtures.Partial("cam-1", 44, 0.5, "line-b") with { Reduction = ScoreReduction.Peak },
        StreamingFixtures.Partial("cam-1", 45, 0.5, "line-b") with { Model = "20261203T061658Z" },
        new FramesAccepted([new FrameKey("cam-1", 42), new FrameKey("cam-2", 7)]),
        new EnsureCamera("cam-1"),
        new InjectAnomaly("cam-1", "dropped-part"),
        new AnomalyInjection("cam-1", "dropped-part", StreamingFixtures.T0, null),
        new AnomalyInjection("cam-1", "x", StreamingFixtures.T0, "unknown kind"),
        new GetLineStatus("line-b"),
        new LineStatus("line-b", new AlarmEvent("line-b", "line-b:cam-1:42", AlarmPhase.Updated, 2, StreamingFixtures.T0, 0.8, ["cam-1", "cam-2"]), 3),
        new LineStatus("line-b", null, 0),
        new LineDecision(new FrameKey("cam-1", 42), StreamingFixtures.T0, 0.73),
        new AlarmSent("kafka", "line-b:cam-1:42/0"),
        new LineJournalSnapshot(
            new LineSnapshot(
                [new CameraSnapshot("cam-1", 17, [18, 20, 21], 21, StreamingFixtures.T0, 0.61, [new RecentFrame(false, StreamingFixtures.T0.AddSeconds(-1)), new RecentFrame(true, StreamingFixtures.T0)])],
                new AlarmEvent("line-b", "line-b:cam-1:20", AlarmPhase.Raised, 0, StreamingFixtures.T0, 0.8, ["cam-1"]),
                0.85,
                StreamingFixtures.T0),
            [new UnsentAlarms("kafka", [new AlarmEvent("line-b", "line-b:cam-1:20", AlarmPhase.Raised, 0, StreamingFixtures.T0, 0.8, ["cam-1"])]), new UnsentAlarms("mqtt", [])]),
        new LineJournalSnapshot(new LineSnapshot([], null, 0, DateTimeOffset.MinValue), []));

    [Theory]
    [MemberData(nameof(CrossNodeMessages))]
    public void A_cross_node_message_round_trips_through_the_plant_serializer_by_its_manifest(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<PlantMessageSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var back = Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
        Assert.IsType(message.GetType(), back);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()), System.Text.Json.JsonSerializer.Serialize(back, message.GetType()));
    }

    [Fact]
    public void Every_type_with_a_manifest_is_bound_to_the_plant_serializer_and_has_a_round_trip_case()
    {
        var covered = ((IEnumerable<object[]>)CrossNodeMessages()).Select(static row => row[0].GetType()).ToHashSet();
        Assert.All(PlantMessageSerializer.Manifests.Keys, t =>
        {
            Assert.IsType<PlantMessageSerializer>(Sys.Serialization.FindSerializerForType(t));
            Assert.Contains(t, covered);
        });
    }

    [Fact]
    public void An_unknown_manifest_is_refused()
    {
        var serializer = (PlantMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(EnsureCamera));
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0, 0, 0, 0], "System.Diagnostics.Process, System"));
        Assert.StartsWith("PlantMessageSerializer: unknown manifest 'System.Diagnostics.Process, Syst' (known: EC, IA, AI, FA, GL, LS, PR, LD, AS, SN)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_length_beyond_the_bytes_sent_is_refused_without_allocating_it()
    {
        var serializer = (PlantMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(FramesAccepted));
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0xFF, 0xFF, 0x00, 0x00], "FA"));
        Assert.Contains("frames length 65535", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grid_whose_cells_do_not_match_its_size_is_refused()
    {
        var partial = StreamingFixtures.Partial("cam-1", 42, 12.5, "line-b");
        var forged = partial with { Residual = partial.Residual with { Width = partial.Residual.Width + 1 } };
        var serializer = (PlantMessageSerializer)Sys.Serialization.FindSerializerFor(partial);
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(serializer.ToBinary(forged), "PR"));
        Assert.Contains("residual grid", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cycle_phase_outside_zero_to_one_is_refused()
    {
        var partial = StreamingFixtures.Partial("cam-1", 43, 0.5) with { Phase = 0.25 };
        var serializer = (PlantMessageSerializer)Sys.Serialization.FindSerializerFor(partial);
        var bytes = serializer.ToBinary(partial);
        BitConverter.GetBytes(1.5).CopyTo(bytes, bytes.Length - 13); // the phase, then the score reduction (4 bytes) and the model flag (1)

        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(bytes, "PR"));

        Assert.Contains("cycle phase 1.5 outside [0, 1)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_score_reduction_is_refused()
    {
        var partial = StreamingFixtures.Partial("cam-1", 43, 0.5);
        var serializer = (PlantMessageSerializer)Sys.Serialization.FindSerializerFor(partial);
        var bytes = serializer.ToBinary(partial);
        BitConverter.GetBytes(7).CopyTo(bytes, bytes.Length - 5); // the reduction, then the model's presence flag (no model)

        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(bytes, "PR"));

        Assert.Contains("score reduction 7", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_bytes_after_a_message_are_refused()
    {
        var serializer = (PlantMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(EnsureCamera));
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([.. serializer.ToBinary(new EnsureCamera("cam-1")), 7], "EC"));
        Assert.EndsWith("1 bytes after the message", ex.Message, StringComparison.Ordinal);
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
