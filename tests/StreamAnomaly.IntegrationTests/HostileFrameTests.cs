using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Host;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// Hostile frames sent to a running plant's frames topic (embedded broker, one synthetic camera,
/// a detector that scores every frame 0): each is dead-lettered, and the camera's later frames are
/// still decided.
/// </summary>
[Collection(nameof(PlantCollection))]
public sealed class HostileFrameTests
{
    private const string Camera = "line-a-cam1";
    private static readonly HttpClient Http = new();
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_tiny_jpeg_declaring_30000x30000_is_dead_lettered_and_its_cameras_later_frames_are_still_decided()
    {
        var recorder = new DecisionRecorder();
        await using var node = await StartAsync(recorder, deduplicationWindow: null);
        var sentAt = TimeProvider.System.GetUtcNow();
        var poison = PoisonJpeg(30000, 30000);
        Produce(node, new FrameMetadata(Camera, "line-a", 1, sentAt, 30000, 30000), poison);

        Assert.True(await DeadLettered(node, DeadLetterReasons.ImageTooLarge), "the poison frame is dead-lettered as image-too-large");
        Assert.True(await Eventually.True(() => recorder.DecidedAfter(sentAt) >= 10, Patience), $"{recorder.DecidedAfter(sentAt)} later frames decided");
        Assert.Null(node.Failure);
        Assert.Equal("ok\n", await Http.GetStringAsync(new Uri(node.StatusAddress, "healthz")));
    }

    [Fact]
    public async Task A_forged_sequence_of_9_1e18_is_dead_lettered_and_does_not_stall_its_camera()
    {
        var recorder = new DecisionRecorder();
        await using var node = await StartAsync(recorder, deduplicationWindow: 16);
        var sentAt = TimeProvider.System.GetUtcNow();
        var jpeg = ImageCodec.EncodeJpeg(new Frame(PlantFixture.Size, PlantFixture.Size, new byte[PlantFixture.Size * PlantFixture.Size * 3]));
        Produce(node, new FrameMetadata(Camera, "line-a", 9_100_000_000_000_000_000, sentAt, PlantFixture.Size, PlantFixture.Size), jpeg);

        Assert.True(await DeadLettered(node, DeadLetterReasons.ImplausibleSequence), "the forged frame is dead-lettered as implausible-sequence");

        // More frames than the deduplication window: a raised floor would have stopped them.
        Assert.True(await Eventually.True(() => recorder.DecidedAfter(sentAt) >= 40, Patience), $"{recorder.DecidedAfter(sentAt)} later frames decided");
    }

    private static Task<PlantNode> StartAsync(DecisionRecorder recorder, int? deduplicationWindow)
    {
        var settings = PlantFixture.Plant(lines: 1, perLine: 1);
        if (deduplicationWindow is { } window)
        {
            settings = settings with { Aggregation = settings.Aggregation with { DeduplicationWindow = window } };
        }

        return StartAndWaitAsync(settings, recorder);
    }

    private static async Task<PlantNode> StartAndWaitAsync(Host.Settings.PlantSettings settings, DecisionRecorder recorder)
    {
        var node = await PlantNode.StartAsync(settings, new NodeServices { Scorers = () => [new ZeroScorer()], Observer = recorder, Log = _ => { } });
        Assert.True(await Eventually.True(() => recorder.DecidedAfter(DateTimeOffset.MinValue) >= 5, Patience), "the camera's frames are decided");
        return node;
    }

    private static void Produce(PlantNode node, FrameMetadata metadata, byte[] value)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = node.BootstrapServers }).Build();
        producer.Produce(node.Settings.Kafka.FramesTopic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(metadata.Camera), Value = value, Headers = FrameHeaders.Write(metadata) });
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    private static Task<bool> DeadLettered(PlantNode node, string reason) =>
        Eventually.True(async () => PrometheusText.Sum(await Http.GetStringAsync(new Uri(node.StatusAddress, "metrics")), "streamanomaly_dead_letters_total", $"reason=\"{reason}\"") == 1, Patience);

    /// <summary>A real 8x8 JPEG whose frame header (SOF0) declares <paramref name="width"/> x <paramref name="height"/>.</summary>
    private static byte[] PoisonJpeg(int width, int height)
    {
        var jpeg = ImageCodec.EncodeJpeg(new Frame(8, 8, new byte[8 * 8 * 3]), quality: 50);
        var sof = Enumerable.Range(2, jpeg.Length - 3).First(i => jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        return jpeg;
    }


    /// <summary>Capture times of the decided frames of <see cref="Camera"/>.</summary>
    private sealed class DecisionRecorder : IPipelineObserver
    {
        private readonly ConcurrentQueue<DateTimeOffset> _decided = new();

        public int DecidedAfter(DateTimeOffset time) => _decided.Count(t => t > time);

        public void FrameDecided(FrameDecided decided)
        {
            if (decided.Fused.Frame.Camera == Camera)
            {
                _decided.Enqueue(decided.Fused.CaptureTime);
            }
        }

        public void CameraStateChanged(string camera, string line, CameraState state) { }

        public void BatchScored(int frames, TimeSpan took) { }

        public void FramesDropped(string reason, int count) { }

        public void PartialsResent(int count) { }

        public void FramesLost(string camera, long count) { }

        public void AlarmChanged(AlarmEvent alarm) { }

        public void CycleCompleted(string camera, string line, CycleRecord cycle) { }
    }
}
