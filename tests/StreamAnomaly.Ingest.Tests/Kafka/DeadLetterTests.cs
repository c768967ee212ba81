using System.Text;
using Confluent.Kafka;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Tests.Clips;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class DeadLetterTests
{
    private const int MaxMessageBytes = 8192;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Each bad input: how to spoil a valid cam-a frame (headers and value), and the expected reason.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "corrupt-bytes", DeadLetterReasons.CorruptImage },
        { "truncated-jpeg", DeadLetterReasons.CorruptImage },
        { "png-instead-of-jpeg", DeadLetterReasons.CorruptImage },
        { "empty-value", DeadLetterReasons.CorruptImage },
        { "wrong-dimensions", DeadLetterReasons.WrongDimensions },
        { "missing-header", DeadLetterReasons.MissingHeader },
        { "malformed-header", DeadLetterReasons.MalformedHeader },
        { "schema-2", DeadLetterReasons.UnsupportedSchema },
        { "unknown-camera", DeadLetterReasons.UnknownCamera },
        { "camera-on-the-wrong-line", DeadLetterReasons.UnknownLine },
        { "oversize", DeadLetterReasons.Oversize },
        { "poison-jpeg-declaring-30000x30000", DeadLetterReasons.ImageTooLarge },
        { "poison-jpeg-under-headers-of-a-small-frame", DeadLetterReasons.ImageTooLarge },
        { "forged-sequence-9.1e18", DeadLetterReasons.ImplausibleSequence },
        { "capture-time-an-hour-ahead", DeadLetterReasons.ImplausibleSequence },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_message_goes_to_the_dead_letter_topic_and_the_next_frame_still_arrives(string kind, string reason)
    {
        var options = KafkaTestKit.FreshOptions(partitions: 2, maxMessageBytes: MaxMessageBytes);
        var bad = Spoil(kind, sequence: 0);
        using (var producer = KafkaTestKit.RawProducer())
        {
            // Same key as the valid frame after it: same partition, so the feed must get past the bad one.
            await producer.ProduceAsync(options.FramesTopic, bad);
            await producer.ProduceAsync(options.FramesTopic, Valid(sequence: 1));
        }

        var observer = new RecordingObserver();
        var collector = new FrameCollector();
        await using (var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System, observer))
        {
            _ = feed.RunAsync(f => { collector.Add(f); feed.Acknowledge(f.Receipt); }, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => collector.Count >= 1 && observer.DeadLetteredTotal >= 1, Patience), $"{collector.Count} frames, {observer.DeadLetteredTotal} dead letters");
        }

        var frame = Assert.Single(collector.Frames);
        Assert.Equal(new FrameKey("cam-a", 1), frame.Metadata.Key);
        Assert.Equal(1, observer.DeadLetteredFor(reason));

        Assert.Equal(1, KafkaTestKit.MessageCount(options.DeadLetterTopic, 2));
        var deadLetter = Assert.Single(KafkaTestKit.ReadTopic(options.DeadLetterTopic, 2, 1, Patience));
        Assert.Equal(reason, KafkaTestKit.HeaderText(deadLetter, FrameHeaders.Reason));
        Assert.False(string.IsNullOrWhiteSpace(KafkaTestKit.HeaderText(deadLetter, FrameHeaders.Error)));
        Assert.Equal(bad.Key, deadLetter.Message.Key);
        Assert.Equal(bad.Value, deadLetter.Message.Value);
        foreach (var header in bad.Headers)
        {
            Assert.Equal(header.GetValueBytes(), deadLetter.Message.Headers.GetLastBytes(header.Key));
        }
    }

    internal static Message<byte[], byte[]> Valid(long sequence) =>
        Message(KafkaTestKit.Metadata("cam-a", sequence), KafkaTestKit.Jpeg(sequence));

    private static Message<byte[], byte[]> Message(FrameMetadata metadata, byte[] value) =>
        new() { Key = Encoding.UTF8.GetBytes(metadata.Camera), Value = value, Headers = FrameHeaders.Write(metadata) };

    internal static Message<byte[], byte[]> Spoil(string kind, long sequence)
    {
        var metadata = KafkaTestKit.Metadata("cam-a", sequence);
        var jpeg = KafkaTestKit.Jpeg(sequence);
        switch (kind)
        {
            case "corrupt-bytes":
                var noise = new byte[300];
                new Random((int)sequence).NextBytes(noise);
                return Message(metadata, noise);
            case "truncated-jpeg":
                return Message(metadata, jpeg[..(jpeg.Length / 2)]);
            case "truncated-small-jpeg":
                var small = KafkaTestKit.Jpeg(sequence, 16, 16);
                return Message(KafkaTestKit.Metadata("cam-a", sequence, 16, 16), small[..(small.Length * 2 / 3)]);
            case "png-instead-of-jpeg":
                return Message(metadata, ImageCodec.EncodePng(KafkaTestKit.Image(sequence)));
            case "empty-value":
                return Message(metadata, []);
            case "wrong-dimensions":
                return Message(metadata, KafkaTestKit.Jpeg(sequence, 32, 24));
            case "wrong-dimensions-small":
                return Message(KafkaTestKit.Metadata("cam-a", sequence, 17, 16), KafkaTestKit.Jpeg(sequence, 16, 16));
            case "missing-header":
                var missing = Message(metadata, jpeg);
                missing.Headers.Remove(FrameHeaders.Sequence);
                return missing;
            case "malformed-header":
                var malformed = Message(metadata, jpeg);
                malformed.Headers.Remove(FrameHeaders.Width);
                FrameHeaders.Add(malformed.Headers, FrameHeaders.Width, "sixty-four");
                return malformed;
            case "schema-2":
                var schema = Message(metadata, jpeg);
                schema.Headers.Remove(FrameHeaders.SchemaVersion);
                FrameHeaders.Add(schema.Headers, FrameHeaders.SchemaVersion, "2");
                return schema;
            case "unknown-camera":
                return Message(metadata with { Camera = "cam-zz" }, jpeg);
            case "camera-on-the-wrong-line":
                return Message(metadata with { Line = "line-2" }, jpeg);
            case "oversize":
                // A real, decodable JPEG of the announced size: only its size is wrong.
                var big = ImageCodec.EncodeJpeg(TestImages.Random(96, 96, (int)sequence), quality: 100);
                Assert.True(big.Length > MaxMessageBytes);
                return Message(KafkaTestKit.Metadata("cam-a", sequence, 96, 96), big);
            case "poison-jpeg-declaring-30000x30000":
                return Message(KafkaTestKit.Metadata("cam-a", sequence, 30000, 30000), HostileImages.Jpeg());
            case "poison-jpeg-under-headers-of-a-small-frame":
                return Message(metadata, HostileImages.Jpeg());
            case "forged-sequence-9.1e18":
                return Message(metadata with { Sequence = 9_100_000_000_000_000_000 }, jpeg);
            case "capture-time-an-hour-ahead":
                return Message(metadata with { CaptureTime = TimeProvider.System.GetUtcNow().AddHours(1) }, jpeg);
            case "oversize-small": // for MaxMessageBytes = 1024
                return Message(metadata, new byte[1025]);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown bad-input kind");
        }
    }
}

/// <summary>A flood of bad input (its own class, so it runs in parallel with the per-kind cases).</summary>
public sealed class DeadLetterFloodTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Ten_thousand_malformed_messages_are_all_dead_lettered_and_none_reaches_the_worker()
    {
        const int total = 10_000;
        var kinds = new[] { "corrupt-bytes", "truncated-small-jpeg", "wrong-dimensions-small", "missing-header", "malformed-header", "schema-2", "unknown-camera", "camera-on-the-wrong-line", "oversize-small" };
        var options = KafkaTestKit.FreshOptions(partitions: 8, maxMessageBytes: 1024);
        var expected = new Dictionary<string, int>();
        using (var producer = KafkaTestKit.RawProducer())
        {
            for (var i = 0; i < total; i++)
            {
                var kind = kinds[i % kinds.Length];
                var message = DeadLetterTests.Spoil(kind, sequence: i);
                message.Key = Encoding.UTF8.GetBytes($"cam-{i % 13}"); // spread over the partitions
                producer.Produce(options.FramesTopic, message);
                expected[kind] = expected.GetValueOrDefault(kind) + 1;
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var observer = new RecordingObserver();
        var collector = new FrameCollector();
        Task run;
        await using (var feed = new KafkaFrameFeed(options, KafkaTestKit.Bootstrap, KafkaTestKit.CameraLines, TimeProvider.System, observer))
        {
            run = feed.RunAsync(collector.Add, CancellationToken.None);
            Assert.True(await KafkaTestKit.Eventually(() => observer.DeadLetteredTotal >= total, TimeSpan.FromSeconds(40)), $"{observer.DeadLetteredTotal} dead letters");
            Assert.False(run.IsFaulted);
        }

        await run;
        Assert.Equal(0, collector.Count);
        Assert.Equal(total, observer.DeadLetteredTotal);
        Assert.Equal(total, KafkaTestKit.MessageCount(options.DeadLetterTopic, 8));
        var onTopic = KafkaTestKit.ReadTopic(options.DeadLetterTopic, 8, total, Patience);
        Assert.Equal(total, onTopic.Count);
        var byReason = onTopic.GroupBy(r => KafkaTestKit.HeaderText(r, FrameHeaders.Reason)!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected["corrupt-bytes"] + expected["truncated-small-jpeg"], byReason[DeadLetterReasons.CorruptImage]);
        Assert.Equal(expected["wrong-dimensions-small"], byReason[DeadLetterReasons.WrongDimensions]);
        Assert.Equal(expected["oversize-small"], byReason[DeadLetterReasons.Oversize]);
        Assert.Equal(expected["camera-on-the-wrong-line"], byReason[DeadLetterReasons.UnknownLine]);
        Assert.All(byReason, r => Assert.Equal(r.Value, observer.DeadLetteredFor(r.Key)));
    }

}
