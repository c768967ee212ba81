using System.Collections.Concurrent;
using Confluent.Kafka;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Streaming;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// Small bundles of the detectors beyond the autoencoder (PatchCore, the integrated CNN, temporal
/// masking), commissioned on the plant fixture's normal footage and saved as bundle files, as a
/// plant's workers load them.
/// </summary>
public sealed class DetectorBundlesFixture : IDisposable
{
    /// <summary>Each detector's settings: small enough to commission in seconds on 2 cores.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Settings = new Dictionary<string, string[]>
    {
        ["patchcore"] = [$"size={PlantFixture.Size}"],
        ["integrated"] = [$"size={PlantFixture.Size}", "backbone=pretrained", "freezeBackbone=true", "pyramidChannels=32", "code=128", "decoderWidth=16", "squeezeChannels=16", "prototypes=8", "epochs=10", "segmentationEpochs=3", "refitEpochs=1", "learningRate=0.003"],
        ["temporal"] = ["size=32", "window=4", "partitions=4", "epochs=4", "maskEpochs=1", "autoencoderWidth=8", "autoencoderHidden=16", "batch=8"],
    };

    private readonly string _root = Directory.CreateTempSubdirectory("detector-bundles-").FullName;
    private readonly Lazy<IReadOnlyList<IReadOnlyList<Frame>>> _footage = new(() => Commissioning.NormalFootage(PlantFixture.Cameras(2, 2, 0), PlantFixture.Options.Seconds));
    private readonly ConcurrentDictionary<string, Lazy<string>> _bundles = new(StringComparer.Ordinal);

    /// <summary>The bundle file of <paramref name="detector"/>, commissioned on first use.</summary>
    public string Bundle(string detector) => _bundles.GetOrAdd(detector, d => new Lazy<string>(() => Commission(d))).Value;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Commission(string detector)
    {
        var path = Path.Combine(_root, $"{detector}.sabundle");
        using var trained = detector == "integrated"
            ? CommissionIntegrated()
            : Commissioning.Train(_footage.Value, new CommissioningOptions(PlantFixture.Options.Seconds) { Detector = detector, Settings = Settings[detector] });
        trained.Bundle.Save(path);
        return path;
    }

    /// <summary>
    /// The integrated CNN learns the background from the cameras' footage and the normal objects
    /// (the worker's hand) from the same cameras with hands reaching in; four fifths of each clip
    /// train, the last fifth calibrates.
    /// </summary>
    private TrainedBundle CommissionIntegrated()
    {
        var hands = Commissioning.NormalFootage(PlantFixture.Cameras(2, 2, 0).Select(static c => c with { Source = c.Source + "?hands=true" }), PlantFixture.Options.Seconds);
        var clips = _footage.Value.Select((f, c) => (Name: $"background-{c}", Category: "background", Frames: f))
            .Concat(hands.Select((f, c) => (Name: $"hands-{c}", Category: "normal-object", Frames: f)))
            .ToList();
        static FrameClip Clip(string name, string category, IReadOnlyList<Frame> frames) =>
            new(name, frames, [.. frames.Select((_, i) => new FrameLabel(i, 0, category))]);
        var set = new TrainingSet(
            [.. clips.Select(static c => Clip(c.Name, c.Category, [.. c.Frames.Take(c.Frames.Count * 4 / 5)]))],
            [.. clips.Select(static c => Clip(c.Name + "-held-out", c.Category, [.. c.Frames.Skip(c.Frames.Count * 4 / 5)]))],
            TrainingFrames.AllNormal,
            PlantFixture.Options.Percentile);
        var definition = DetectorCatalog.Get("integrated");
        return DetectorLifecycle.Train(definition, DetectorOptionsJson.With(definition.Defaults, Settings["integrated"]), set, new FitContext(CPU, Seed: 0), TimeProvider.System);
    }
}

/// <summary>
/// Each detector through the whole pipeline, loaded from its bundle file by a worker as a plant
/// runs it: an injected anomaly raises the line's alarm, and for the frame detectors the score the
/// aggregator decides for each frame is the score <c>eval</c> computes offline for the same frames
/// (read back from Kafka). One plant per detector checks both: a plant run costs most of the test.
/// The temporal detector's offline scores are not the streaming ones by design (offline, its mask
/// is pooled over the clip, centred on each frame; streaming, over the frames up to it).
/// </summary>
[Collection(nameof(PlantCollection))]
public sealed class DetectorPipelineTests(DetectorBundlesFixture bundles) : IClassFixture<DetectorBundlesFixture>
{
    [Fact]
    public async Task PatchCore_raises_the_alarm_on_an_injected_anomaly_and_every_frame_gets_the_score_eval_gives_it()
    {
        var bundle = bundles.Bundle("patchcore");
        var (node, settings, recorder, injection) = await StartAndInjectAsync(bundle);
        await using var running = node;
        await AwaitAlarmAsync(recorder, injection);
        var evidence = node.Dashboard!.Evidence(recorder.Raised("line-a").First().AlarmId);
        Assert.Equal(Core.Bundles.ModelBundle.Load(bundle).Manifest.ModelVersion, Assert.Single(evidence!.Cameras).Decided.Models!["patchcore"]);
        await AssertScoredAsEvalScoresAsync(node, settings, recorder, bundle);
    }

    /// <remarks>
    /// At this scale (64 px, seconds of commissioning) the integrated CNN ranks the anomaly's
    /// frames above every normal one but below its calibrated threshold (0.1-0.45 normalised), so
    /// no alarm is asserted: its segmentation head masks part of the foreign object with the hands
    /// (docs/integrated-cnn.md).
    /// </remarks>
    [Fact]
    public async Task The_integrated_cnn_scores_an_injected_anomaly_above_every_normal_frame_and_every_frame_as_eval_does()
    {
        var bundle = bundles.Bundle("integrated");
        var (node, settings, recorder, injection) = await StartAndInjectAsync(bundle);
        await using var running = node;
        var before = recorder.Scores.Keys.Max(static k => k.Sequence);
        Assert.True(await Eventually.True(() => recorder.Scores.Keys.Count(k => k.Sequence > before) >= 60, TimeSpan.FromSeconds(60)), "frames after the injection decided");

        var normal = recorder.Scores.Where(p => p.Key.Sequence <= before).Max(static p => p.Value);
        var after = recorder.Scores.Where(p => p.Key.Sequence > before).Max(static p => p.Value);
        Assert.True(after > normal + 0.05, $"after the injection up to {after:F2}, before it up to {normal:F2}; scores {Scores(recorder)}");
        await AssertScoredAsEvalScoresAsync(node, settings, recorder, bundle);
    }

    [Fact]
    public async Task The_temporal_detector_raises_the_alarm_on_an_injected_anomaly_and_none_while_its_window_fills()
    {
        var (node, _, recorder, injection) = await StartAndInjectAsync(bundles.Bundle("temporal"));
        await using var running = node;
        await AwaitAlarmAsync(recorder, injection);
        Assert.Single(recorder.Raised("line-a"));
    }

    /// <summary>
    /// A one-camera plant whose line is scored by <paramref name="bundle"/>: 15 frames decided
    /// without an alarm, then a foreign object injected beside the belt.
    /// </summary>
    private static async Task<(PlantNode Node, PlantSettings Settings, PlantRecorder Recorder, Cluster.AnomalyInjection Injection)> StartAndInjectAsync(string bundle)
    {
        var plant = PlantFixture.Plant(lines: 1, perLine: 1);
        var settings = plant with { Lines = [plant.Lines[0] with { Bundles = [bundle] }] };
        var recorder = new PlantRecorder();
        var log = new ConcurrentQueue<string>();
        var node = await PlantNode.StartAsync(settings, new NodeServices { Observer = recorder, Log = log.Enqueue });
        try
        {
            Assert.True(await Eventually.True(() => recorder.Decided >= 15, TimeSpan.FromSeconds(60)), "frames decided: " + string.Join("\n", log));
            Assert.True(recorder.Alarms.IsEmpty, "no alarm on normal frames; scores " + Scores(recorder));
            var injection = await node.InjectAsync("line-a-cam1", "foreign-object-beside-belt");
            Assert.Null(injection.Error);
            return (node, settings, recorder, injection);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    private static async Task AwaitAlarmAsync(PlantRecorder recorder, Cluster.AnomalyInjection injection)
    {
        Assert.True(await Eventually.True(() => recorder.Raised("line-a").Any(), TimeSpan.FromSeconds(45)), "alarm raised after the injection; scores " + Scores(recorder));
        Assert.True(recorder.Raised("line-a").First().At >= injection.At, "the alarm comes from frames captured after the injection");
    }

    /// <summary>Every decided frame's score equals the score offline evaluation of <paramref name="bundle"/> gives the same frames.</summary>
    private static async Task AssertScoredAsEvalScoresAsync(PlantNode node, PlantSettings settings, PlantRecorder recorder, string bundle)
    {
        var decided = recorder.Scores.OrderBy(static p => p.Key.Sequence).ToList();
        var frames = await ReadBackAsync(node, settings, decided.Select(static p => p.Key.Sequence).ToHashSet());
        using var loaded = DetectorCatalog.Load(bundle, CPU);
        var offline = ClipFusion.Fuse([new DetectorScores(loaded.Detector.Kind, loaded.Calibration, loaded.Detector.ScoreSequence(frames))], settings.Worker.GridSize);

        Assert.Equal(decided.Count, offline.Length);
        Assert.Contains(decided, static p => p.Value is > 0.01 and < 0.99);
        for (var i = 0; i < decided.Count; i++)
        {
            Assert.True(Math.Abs(decided[i].Value - offline[i].RawScore) < 1e-4, $"{loaded.Detector.Kind}, frame {decided[i].Key.Sequence}: pipeline {decided[i].Value:R}, eval {offline[i].RawScore:R}");
        }
    }

    private static string Scores(PlantRecorder recorder) =>
        string.Join(", ", recorder.Scores.OrderBy(static p => p.Key.Sequence).Select(static p => $"{p.Key.Sequence % 1000}:{p.Value:F2}"));

    /// <summary>The frames of <paramref name="sequences"/> as the worker decoded them, in sequence order, from the frames topic.</summary>
    private static async Task<Frame[]> ReadBackAsync(PlantNode node, PlantSettings settings, HashSet<long> sequences)
    {
        var decoder = new FrameMessageDecoder(settings.Kafka, settings.CameraLines, TimeProvider.System);
        var config = new ConsumerConfig
        {
            BootstrapServers = node.BootstrapServers,
            GroupId = $"read-back-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
        consumer.Subscribe(settings.Kafka.FramesTopic);
        var frames = new SortedDictionary<long, Frame>();
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (frames.Count < sequences.Count && TimeProvider.System.GetUtcNow() < deadline)
        {
            var result = await Task.Run(() => consumer.Consume(TimeSpan.FromSeconds(1)));
            if (result?.Message is { } message)
            {
                var (metadata, image) = decoder.Decode(message.Headers, message.Value);
                if (sequences.Contains(metadata.Key.Sequence))
                {
                    frames[metadata.Key.Sequence] = image;
                }
            }
        }

        consumer.Close();
        Assert.Equal(sequences.Count, frames.Count);
        return [.. frames.Values];
    }
}
