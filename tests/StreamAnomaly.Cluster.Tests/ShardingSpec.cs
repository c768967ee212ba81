using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Cluster.Tests;

/// <summary>Both sharded entity types on a one-node cluster with all roles (the embedded default).</summary>
public sealed class ShardingSpec() : TestKit(NodeOptions.SingleNode.ToAkkaConfig($"akka.actor.serialize-messages = on\n{StreamingFixtures.Patient}"))
{
    private sealed class FakeRunner(Action<CameraState> report) : ICameraRunner
    {
        public ConcurrentQueue<string> Injected { get; } = new();

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            report(CameraState.Online);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        public string? Inject(string kind)
        {
            if (kind != "dropped-part")
            {
                return $"unknown kind '{kind}'";
            }

            Injected.Enqueue(kind);
            return null;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class FakeFactory : ICameraRunnerFactory
    {
        public ConcurrentDictionary<string, FakeRunner> Runners { get; } = new();

        public ConcurrentQueue<long> FirstSequences { get; } = new();

        public string? LineOf(string camera) => camera.StartsWith("cam", StringComparison.Ordinal) ? "A" : null;

        public ICameraRunner Create(string camera, long firstSequence, Action<CameraState> report)
        {
            FirstSequences.Enqueue(firstSequence);
            return Runners.GetOrAdd(camera, _ => new FakeRunner(report));
        }
    }

    private sealed class StateLog : IPipelineObserver
    {
        public ConcurrentQueue<(string Camera, CameraState State)> States { get; } = new();

        public void CameraStateChanged(string camera, string line, CameraState state) => States.Enqueue((camera, state));

        public void BatchScored(int frames, TimeSpan took) { }

        public void FramesDropped(string reason, int count) { }

        public void PartialsResent(int count) { }

        public void FrameDecided(FrameDecided decided) { }

        public void FramesLost(string camera, long count) { }

        public void AlarmChanged(AlarmEvent alarm) { }

        public void CycleCompleted(string camera, string line, CycleRecord cycle) { }
    }

    private async Task JoinSelfAsync()
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_keeper_starts_every_configured_camera_and_injections_reach_it()
    {
        await JoinSelfAsync();
        var factory = new FakeFactory();
        var observer = new StateLog();
        var cameras = await PlantSharding.StartCamerasAsync(Sys, id => CameraActor.Props(id, factory, observer, TimeProvider.System));
        Sys.ActorOf(CameraKeeper.Props(cameras, ["cam-1", "cam-2"], TimeSpan.FromSeconds(1)));
        AwaitCondition(() => factory.Runners.Count == 2, TimeSpan.FromSeconds(10));
        AwaitCondition(() => observer.States.Count(s => s.State == CameraState.Online) == 2);

        cameras.Tell(new InjectAnomaly("cam-2", "dropped-part"), TestActor);
        Assert.Null(ExpectMsg<AnomalyInjection>(TimeSpan.FromSeconds(5)).Error);
        Assert.Equal(["dropped-part"], factory.Runners["cam-2"].Injected);
        cameras.Tell(new InjectAnomaly("cam-1", "volcano"), TestActor);
        Assert.Equal("unknown kind 'volcano'", ExpectMsg<AnomalyInjection>(TimeSpan.FromSeconds(5)).Error);
    }

    [Fact]
    public async Task Partial_results_reach_their_lines_aggregator_through_the_region()
    {
        await JoinSelfAsync();
        var sink = new RecordingAlarmSink();
        var lines = await PlantSharding.StartLinesAsync(Sys, id => LineAggregatorActor.Props(id, AggregationOptions.Default, [sink], NullPipelineObserver.Instance, TimeProvider.System));
        lines.Tell(StreamingFixtures.Partial("cam-1", 5, 3, line: "B"), TestActor);
        Assert.Equal([new FrameKey("cam-1", 5)], ExpectMsg<FramesAccepted>(TimeSpan.FromSeconds(10)).Frames);
        lines.Tell(new GetLineStatus("B"), TestActor);
        var status = ExpectMsg<LineStatus>(TimeSpan.FromSeconds(5));
        Assert.Equal("B", status.Line);
        Assert.Null(status.ActiveAlarm);
    }

    [Fact]
    public void Sequences_of_a_restarted_camera_start_above_the_previous_run()
    {
        var first = CameraActor.FirstSequence(StreamingFixtures.T0);
        var later = CameraActor.FirstSequence(StreamingFixtures.T0.AddSeconds(1));
        // one second of frames at up to 1,000,000 fps fits between the two starts
        Assert.Equal(1_000_000, later - first);
    }

    [Fact]
    public async Task Members_that_are_up_are_counted_per_role()
    {
        var reports = new ConcurrentQueue<IReadOnlyDictionary<string, int>>();
        Sys.ActorOf(ClusterMembersActor.Props(reports.Enqueue));
        await JoinSelfAsync();
        AwaitCondition(() => reports.Any(r => r["worker"] == 1 && r["ingest"] == 1 && r["aggregator"] == 1), TimeSpan.FromSeconds(10));
    }
}
