using System.Collections.Concurrent;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Vision.Detectors.Cycle;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// One commissioned autoencoder and one cycle detector (fitted on the synthetic cameras' first
/// normal frames, as the demo does) shared by the in-process plant tests; each test builds its own
/// plant around them.
/// </summary>
public sealed class PlantFixture
{
    public const int Size = 64;

    public static readonly CommissioningOptions Options = CommissioningOptions.Autoencoder(Size, epochs: 10, seconds: 24);

    public static readonly CommissioningOptions CycleOptions = new(Options.Seconds) { Detector = CycleDetector.Name, Settings = [$"size={Size}"] };

    private readonly Lazy<IReadOnlyList<IReadOnlyList<Core.Imaging.Frame>>> _footage = new(() => Commissioning.NormalFootage(Cameras(2, 2, 0), Options.Seconds));

    private readonly Lazy<IFrameScorer> _scorer;

    private readonly Lazy<IFrameScorer> _cycle;

    public PlantFixture()
    {
        _scorer = new(() => Commissioning.Scorer(_footage.Value, Options));
        _cycle = new(() => Commissioning.Scorer(_footage.Value, CycleOptions));
    }

    /// <summary>Synthetic cameras line-a-cam1.., line-b-cam1.. (seeds from <paramref name="seed"/>).</summary>
    public static CameraOptions[] Cameras(int lines, int perLine, int seed) =>
        Enumerable.Range(0, lines * perLine).Select(i => new CameraOptions($"{LineId(i / perLine)}-cam{(i % perLine) + 1}", $"synthetic:{seed + i}", 5, Size, Size)).ToArray();

    public static string LineId(int line) => $"line-{(char)('a' + line)}";

    public static PlantSettings Plant(int lines, int perLine, int seed = 0) => new()
    {
        Http = new HttpSettings { Listen = "127.0.0.1:0" },
        Lines = Enumerable.Range(0, lines).Select(l => new LineOptions(LineId(l), Cameras(lines, perLine, seed).Skip(l * perLine).Take(perLine).ToArray())).ToArray(),
    };

    /// <summary>The commissioned scorer, trained once; nodes may dispose it (the wrapper keeps it alive for the next test).</summary>
    public IFrameScorer Scorer() => new Undisposable(_scorer.Value);

    /// <summary>The commissioned cycle detector (it reports each frame's phase, so workers export cycle times); kept alive like <see cref="Scorer"/>.</summary>
    public IFrameScorer CycleScorer() => new Undisposable(_cycle.Value);

    private sealed class Undisposable(IFrameScorer inner) : IFrameScorer
    {
        public string Detector => inner.Detector;

        public Core.Scoring.ScoreCalibration Calibration => inner.Calibration;

        public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Core.Imaging.Frame Image)> batch) => inner.Score(batch);

        public void Dispose()
        {
        }
    }
}

/// <summary>Records what a plant decided.</summary>
internal sealed class PlantRecorder : IPipelineObserver
{
    private long _decided;

    public ConcurrentQueue<AlarmEvent> Alarms { get; } = new();

    public ConcurrentDictionary<string, long> DecidedPerLine { get; } = new();

    /// <summary>The fused score decided for each frame.</summary>
    public ConcurrentDictionary<FrameKey, double> Scores { get; } = new();

    public long Decided => Interlocked.Read(ref _decided);

    public void CameraStateChanged(string camera, string line, CameraState state) { }

    public void BatchScored(int frames, TimeSpan took) { }

    public void FramesDropped(string reason, int count) { }

    public void PartialsResent(int count) { }

    public void FrameDecided(FrameDecided decided)
    {
        Interlocked.Increment(ref _decided);
        DecidedPerLine.AddOrUpdate(decided.Fused.Line, 1, static (_, n) => n + 1);
        Scores[decided.Fused.Frame] = decided.Fused.Score;
    }

    public void FramesLost(string camera, long count) { }

    public void AlarmChanged(AlarmEvent alarm) => Alarms.Enqueue(alarm);

    public ConcurrentQueue<(string Camera, string Line, CycleRecord Cycle)> Cycles { get; } = new();

    public void CycleCompleted(string camera, string line, CycleRecord cycle) => Cycles.Enqueue((camera, line, cycle));

    public IEnumerable<AlarmEvent> Raised(string line) => Alarms.Where(a => a.Line == line && a.Phase == AlarmPhase.Raised);
}

[CollectionDefinition(nameof(PlantCollection), DisableParallelization = true)]
public sealed class PlantCollection : ICollectionFixture<PlantFixture>;

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until true or <paramref name="timeout"/>; returns whether it became true.</summary>
    public static Task<bool> True(Func<bool> condition, TimeSpan timeout) => True(() => Task.FromResult(condition()), timeout);

    /// <summary>Polls an asynchronous <paramref name="condition"/> every 100 ms until true or <paramref name="timeout"/>.</summary>
    public static async Task<bool> True(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var end = TimeProvider.System.GetTimestamp() + (long)(timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!await condition())
        {
            if (TimeProvider.System.GetTimestamp() > end)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }
}
