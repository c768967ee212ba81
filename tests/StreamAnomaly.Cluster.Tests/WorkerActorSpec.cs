using Akka.Actor;
using Akka.TestKit.Xunit2;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster.Tests;

public sealed class WorkerActorSpec() : TestKit($"""
    streamanomaly.inference-dispatcher.type = PinnedDispatcher
    akka.actor.serialize-messages = on
    {StreamingFixtures.Patient}
    """)
{
    private static WorkerSettings Settings(int batch = 4, double ackSeconds = 10, int perLive = 2) =>
        new(new BatchingOptions(batch, TimeSpan.FromMilliseconds(30), perLive), TimeSpan.FromSeconds(ackSeconds));

    private IActorRef Worker(MemoryFeed feed, IFrameScorer scorer, WorkerSettings settings, Func<string, bool>? live = null, IPipelineObserver? observer = null) =>
        Sys.ActorOf(WorkerActor.Props(feed, InferenceActor.Props(ScorerRoutes.Everywhere([scorer])), TestActor, settings, live ?? (_ => false), observer ?? NullPipelineObserver.Instance, TimeProvider.System));

    [Fact]
    public void A_camera_whose_detector_tracks_the_cycle_reports_each_complete_cycle_with_its_time()
    {
        var feed = new MemoryFeed();
        var observer = new CycleRecorder();
        Worker(feed, new PhaseScorer(), Settings(batch: 4), observer: observer);
        for (var sequence = 1; sequence <= 25; sequence++)
        {
            feed.Push("c1", sequence, line: "L");
        }

        ReceiveN(25);
        AwaitCondition(() => !observer.Cycles.IsEmpty);
        var (camera, line, cycle) = Assert.Single(observer.Cycles);
        Assert.Equal(("c1", "L"), (camera, line));
        Assert.Equal(TimeSpan.FromSeconds(2), cycle.Duration);
        Assert.Equal(StreamingFixtures.T0.AddSeconds(2), cycle.Start);
    }

    [Fact]
    public void Frames_of_several_cameras_are_scored_in_one_batch_and_sent_to_the_aggregators()
    {
        var feed = new MemoryFeed();
        var scorer = new SequenceScorer();
        Worker(feed, scorer, Settings(batch: 4));
        feed.Push("c1", 1);
        feed.Push("c2", 7);
        feed.Push("c1", 2);
        feed.Push("c3", 9);
        var partials = ReceiveN(4).Cast<PartialResult>().ToList();
        Assert.Equal([1.0, 7, 2, 9], partials.Select(static p => p.RawScore));
        Assert.Equal([4], scorer.BatchSizes);
        Assert.All(partials, p => Assert.Equal("A", p.Line));
    }

    [Fact]
    public void A_frame_is_acknowledged_only_after_its_aggregator_accepted_it()
    {
        var feed = new MemoryFeed();
        var worker = Worker(feed, new SequenceScorer(), Settings(batch: 1));
        var frame = feed.Push("c1", 1);
        var partial = ExpectMsg<PartialResult>();
        Assert.Empty(feed.Acknowledged);
        worker.Tell(new FramesAccepted([partial.Frame]));
        AwaitCondition(() => feed.Acknowledged.Contains(frame.Receipt));
    }

    [Fact]
    public void Unconfirmed_partials_are_resent()
    {
        var feed = new MemoryFeed();
        Worker(feed, new SequenceScorer(), Settings(batch: 1, ackSeconds: 0.3));
        feed.Push("c1", 1);
        var first = ExpectMsg<PartialResult>();
        var again = ExpectMsg<PartialResult>(TimeSpan.FromSeconds(3));
        Assert.Equal(first.Frame, again.Frame);
    }

    [Fact]
    public void Frames_of_a_failing_detector_are_acknowledged_and_not_sent()
    {
        var feed = new MemoryFeed();
        Worker(feed, new SequenceScorer(fail: true), Settings(batch: 2));
        feed.Push("c1", 1);
        feed.Push("c1", 2);
        AwaitCondition(() => feed.Acknowledged.Count == 2);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void New_scorers_replace_the_old_ones_which_are_disposed()
    {
        var feed = new MemoryFeed();
        var old = new SequenceScorer("old");
        var worker = Worker(feed, old, Settings(batch: 1));
        worker.Tell(new SwapScorers(ScorerRoutes.Everywhere([new SequenceScorer("new")])));
        AwaitCondition(() => old.Disposed);
        feed.Push("c1", 1);
        Assert.Equal("new", ExpectMsg<PartialResult>().Detector);
    }

    private IActorRef RoutedWorker(MemoryFeed feed, ScorerRoutes routes, int batch = 4) =>
        Sys.ActorOf(WorkerActor.Props(feed, InferenceActor.Props(routes), TestActor, Settings(batch: batch), _ => false, NullPipelineObserver.Instance, TimeProvider.System));

    private static ScorerRoutes Routes(IFrameScorer press, IFrameScorer robot) =>
        new(new Dictionary<string, IFrameScorer> { ["press.sabundle"] = press, ["robot.sabundle"] = robot },
            new Dictionary<string, string[]> { ["press-1"] = ["press.sabundle"], ["robot-1"] = ["robot.sabundle"], ["robot-2"] = ["robot.sabundle"] },
            []);

    [Fact]
    public void Each_camera_of_a_batch_is_scored_only_by_the_detector_of_its_own_bundle()
    {
        var feed = new MemoryFeed();
        var (press, robot) = (new SequenceScorer("press"), new SequenceScorer("robot"));
        RoutedWorker(feed, Routes(press, robot));
        feed.Push("press-1", 1, line: "P");
        feed.Push("robot-1", 2, line: "R");
        feed.Push("robot-2", 3, line: "R");
        feed.Push("press-1", 4, line: "P");

        var partials = ReceiveN(4).Cast<PartialResult>().ToList();
        Assert.Equal(
            [("press-1", "press"), ("press-1", "press"), ("robot-1", "robot"), ("robot-2", "robot")],
            partials.Select(static p => (p.Frame.Camera, p.Detector)).Order());
        Assert.All(partials, static p => Assert.Equal(1, p.Detectors));
        Assert.Equal([2], press.BatchSizes);
        Assert.Equal([2], robot.BatchSizes);
    }

    [Fact]
    public void A_new_version_of_one_bundle_changes_only_its_cameras_and_disposes_its_old_detector()
    {
        var feed = new MemoryFeed();
        var (press, robot) = (new SequenceScorer("press"), new SequenceScorer("robot"));
        var worker = RoutedWorker(feed, Routes(press, robot), batch: 1);
        worker.Tell(new ReplaceBundle("robot.sabundle", new SequenceScorer("robot-v2")));
        AwaitCondition(() => robot.Disposed);

        feed.Push("robot-1", 1, line: "R");
        Assert.Equal("robot-v2", ExpectMsg<PartialResult>().Detector);
        feed.Push("press-1", 2, line: "P");
        Assert.Equal("press", ExpectMsg<PartialResult>().Detector);
        Assert.False(press.Disposed);
    }

    [Fact]
    public void A_failing_detector_loses_only_the_frames_of_its_own_cameras()
    {
        var feed = new MemoryFeed();
        RoutedWorker(feed, Routes(new SequenceScorer("press"), new SequenceScorer("robot", fail: true)));
        var robotFrame = feed.Push("robot-1", 1, line: "R");
        feed.Push("press-1", 2, line: "P");

        var partial = ExpectMsg<PartialResult>();
        Assert.Equal(("press-1", "press"), (partial.Frame.Camera, partial.Detector));
        AwaitCondition(() => feed.Acknowledged.Contains(robotFrame.Receipt));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    private sealed class BrokenFeed : IFrameFeed
    {
        public int InFlight => 0;

        public Task RunAsync(Action<IncomingFrame> onFrame, CancellationToken cancellationToken) =>
            Task.FromException(new InvalidOperationException("broker gone for good"));

        public void Acknowledge(FrameReceipt receipt) { }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public void A_worker_whose_feed_fails_stops_instead_of_running_without_frames()
    {
        var worker = Sys.ActorOf(WorkerActor.Props(new BrokenFeed(), InferenceActor.Props(ScorerRoutes.Everywhere([new SequenceScorer()])), TestActor, Settings(), _ => false, NullPipelineObserver.Instance, TimeProvider.System));
        Watch(worker);
        ExpectTerminated(worker, TimeSpan.FromSeconds(5));
    }
}
