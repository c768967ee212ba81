using Microsoft.Extensions.Time.Testing;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Synthetic.Live;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Tests.Live;

public class SyntheticCameraSourceTests
{
    /// <summary>Reads <paramref name="count"/> frames, advancing the fake clock whenever the source waits.</summary>
    private static async Task<List<(Frame Frame, LiveFrame Live)>> ReadAsync(SyntheticCameraSource source, FakeTimeProvider time, int count, TimeSpan step, Action<int>? beforeFrame = null)
    {
        var frames = new List<(Frame, LiveFrame)>();
        await using var e = source.ReadAsync(CancellationToken.None).GetAsyncEnumerator();
        for (var i = 0; i < count; i++)
        {
            beforeFrame?.Invoke(i);
            var next = e.MoveNextAsync();
            var guard = 0;
            while (!next.IsCompleted)
            {
                Assert.True(++guard < 100_000, "the source never produced a frame");
                time.Advance(step);
                await Task.Yield();
            }

            Assert.True(await next);
            frames.Add((e.Current, source.LastFrame!));
        }

        return frames;
    }

    [Fact]
    public async Task Frames_are_rendered_at_clock_time_paced_at_fps_and_deterministic()
    {
        var options = new SyntheticCameraOptions(48, 32, Fps: 4, SceneOptions.WithPeople);
        var timeA = new FakeTimeProvider();
        var timeB = new FakeTimeProvider();
        await using var a = new SyntheticCameraSource(5, options, timeA);
        await using var b = new SyntheticCameraSource(5, options, timeB);
        Assert.True(a.IsLive);

        var framesA = await ReadAsync(a, timeA, 6, TimeSpan.FromMilliseconds(50));
        var framesB = await ReadAsync(b, timeB, 6, TimeSpan.FromMilliseconds(10));

        var scene = new RobotCellScene(5, SceneOptions.WithPeople);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(i * 0.25, framesA[i].Live.WallTime, 9);
            Assert.Equal((48, 32), (framesA[i].Frame.Width, framesA[i].Frame.Height));
            Assert.Equal(framesB[i].Frame.Bgr, framesA[i].Frame.Bgr);
            Assert.Equal(scene.Render(i * 0.25, 48, 32).Frame.Bgr, framesA[i].Frame.Bgr);
        }
    }

    [Fact]
    public async Task Source_skips_slots_it_fell_behind_on()
    {
        var time = new FakeTimeProvider();
        await using var source = new SyntheticCameraSource(5, new SyntheticCameraOptions(16, 16, Fps: 10), time);

        var frames = await ReadAsync(source, time, 3, TimeSpan.FromMilliseconds(10), beforeFrame: i =>
        {
            if (i == 2)
            {
                time.Advance(TimeSpan.FromSeconds(1.05));
            }
        });

        Assert.Equal([0.0, 0.1, 1.2], frames.Select(f => Math.Round(f.Live.WallTime, 6)));
    }

    [Fact]
    public async Task Inject_through_the_source_shows_the_anomaly_in_the_next_cycle()
    {
        var time = new FakeTimeProvider();
        await using var source = new SyntheticCameraSource(9, new SyntheticCameraOptions(16, 16, Fps: 2), time);
        var frames = await ReadAsync(source, time, 40, TimeSpan.FromMilliseconds(100), beforeFrame: i =>
        {
            if (i == 4)
            {
                // From another thread, as the host does.
                Task.Run(() => source.Inject("foreign-object-on-belt")).GetAwaiter().GetResult();
            }
        });

        var firstCycle = frames[4].Live.Cycle;
        Assert.All(frames.Take(4), f => Assert.Null(f.Live.Anomaly));
        Assert.Contains(frames, f => f.Live.Cycle == firstCycle + 1 && f.Live.Anomaly == "foreign-object-on-belt");
        Assert.All(frames.Where(f => f.Live.Cycle > firstCycle + 1), f => Assert.Null(f.Live.Anomaly));
        Assert.Contains(frames, f => f.Live.Cycle > firstCycle + 1);
    }

    [Fact]
    public async Task Unknown_kind_is_rejected_listing_the_valid_ones()
    {
        await using var source = new SyntheticCameraSource(1, new SyntheticCameraOptions(), TimeProvider.System);
        var ex = Assert.Throws<ArgumentException>(() => source.Inject("teleporting-part"));
        Assert.Contains("dropped-part", ex.Message, StringComparison.Ordinal);
        Assert.Contains("cycle-too-slow", ex.Message, StringComparison.Ordinal);
        Assert.Equal(LiveRobotCell.AnomalyKinds, source.AnomalyKinds);
    }

    [Fact]
    public async Task Synthetic_uri_builds_a_source_and_other_schemes_are_left_alone()
    {
        var camera = new CameraOptions("cam-s", "synthetic:42?people=true&hands=true", Fps: 3, Width: 64, Height: 48);
        await using var source = SyntheticCameraSource.TryCreate(camera, TimeProvider.System);

        Assert.NotNull(source);
        Assert.Equal(42, source.Cell.Seed);
        Assert.True(source.Cell.Options is { People: true, Hands: true, Shadows: true });
        Assert.Contains("64x48 at 3 fps", source.Description, StringComparison.Ordinal);
        Assert.Null(SyntheticCameraSource.TryCreate(camera with { Source = "file:/x.avi" }, TimeProvider.System));
        var ex = Assert.Throws<ArgumentException>(() => SyntheticCameraSource.TryCreate(camera with { Source = "synthetic:abc" }, TimeProvider.System));
        Assert.Contains("cam-s", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SyntheticCameraSource.TryCreate(camera with { Source = "synthetic:1?robots=true" }, TimeProvider.System));
    }

    [Fact]
    public async Task An_anomaly_schedule_is_read_from_the_uri_and_a_bad_one_is_refused()
    {
        var camera = new CameraOptions("cam-s", "synthetic:3?anomaly-every=12.5&people=false", Fps: 5, Width: 64, Height: 64);
        await using var source = SyntheticCameraSource.TryCreate(camera, TimeProvider.System);
        Assert.Equal(TimeSpan.FromSeconds(12.5), source!.Options.AnomalyEvery);
        await using var plain = SyntheticCameraSource.TryCreate(camera with { Source = "synthetic:3" }, TimeProvider.System);
        Assert.Null(plain!.Options.AnomalyEvery);
        var ex = Assert.Throws<ArgumentException>(() => SyntheticCameraSource.TryCreate(camera with { Source = "synthetic:3?anomaly-every=-1" }, TimeProvider.System));
        Assert.Contains("anomaly-every", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scheduled_anomalies_inject_every_interval_cycling_through_the_kinds()
    {
        var time = new FakeTimeProvider();
        var target = new RecordingTarget();
        using var cts = new CancellationTokenSource();
        var run = ScheduledAnomalies.RunAsync(target, ["dropped-part", "stalled-arm"], TimeSpan.FromSeconds(10), time, cts.Token);

        for (var i = 0; i < 35; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(["dropped-part", "stalled-arm", "dropped-part"], target.Injected);
        await Assert.ThrowsAsync<ArgumentException>(() => ScheduledAnomalies.RunAsync(target, ["nope"], TimeSpan.FromSeconds(1), time, CancellationToken.None));
    }

    private sealed class RecordingTarget : IAnomalyInjectable
    {
        public List<string> Injected { get; } = [];

        public IReadOnlyList<string> AnomalyKinds => LiveRobotCell.AnomalyKinds;

        public void Inject(string kind)
        {
            lock (Injected)
            {
                Injected.Add(kind);
            }
        }
    }
}
