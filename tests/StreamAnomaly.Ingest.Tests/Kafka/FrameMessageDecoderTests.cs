using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Tests.Clips;
using Xunit.Abstractions;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class FrameMessageDecoderTests(ITestOutputHelper output)
{
    /// <summary>The fuzz tests' generator seed: a failure names its case number, and the same seed replays it.</summary>
    private const int Seed = 20261202;

    private const int FuzzCases = 10_000;

    /// <summary>Longest any single message may take to be decoded or refused.</summary>
    private static readonly TimeSpan CaseBound = TimeSpan.FromSeconds(1);

    /// <summary>Ten minutes after <see cref="KafkaTestKit.Metadata"/>'s capture times.</summary>
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_600_000);

    private static readonly string[] Interesting =
    [
        "", "-1", "0", "1", "2", "64", "48", "30000", "8192", "8193", "65535", "2147483648", "9100000000000000000",
        "99999999999999999999", "1e3", " 64", "64\n", "cam-a", "cam-b", "line-1", "line-2", "ghost", "jpeg", "png", "\u00e9", "cam a",
    ];

    private static FrameMessageDecoder Decoder() =>
        new(new KafkaOptions { MaxMessageBytes = 64 * 1024 }, KafkaTestKit.CameraLines, new FakeTimeProvider(Now));

    private static FrameRejectedException Rejected(FrameMetadata metadata, byte[] value) =>
        Assert.Throws<FrameRejectedException>(() => Decoder().Decode(FrameHeaders.Write(metadata), value));

    [Fact]
    public void A_valid_message_decodes_to_its_metadata_and_pixels()
    {
        var metadata = KafkaTestKit.Metadata("cam-b", 7);
        var (decoded, image) = Decoder().Decode(FrameHeaders.Write(metadata), KafkaTestKit.Jpeg(7));
        Assert.Equal(metadata, decoded);
        Assert.Equal(ImageCodec.DecodeFrame(KafkaTestKit.Jpeg(7)).Bgr, image.Bgr);
    }

    [Fact]
    public void A_jpeg_declaring_30000x30000_is_rejected_as_too_large_before_decoding()
    {
        var ex = Rejected(KafkaTestKit.Metadata("cam-a", 1, 30000, 30000), HostileImages.Jpeg());
        Assert.Equal(DeadLetterReasons.ImageTooLarge, ex.Reason);
        Assert.Equal("the image declares 30000x30000 pixels, above the limit of 8192 px per side (Kafka:MaxImage)", ex.Message);
    }

    [Fact]
    public void A_jpeg_whose_frame_header_disagrees_with_the_message_headers_is_rejected_before_decoding() =>
        Assert.Equal(DeadLetterReasons.WrongDimensions, Rejected(KafkaTestKit.Metadata("cam-a", 1, 64, 48), HostileImages.Jpeg(64, 49)).Reason);

    [Fact]
    public void A_sequence_of_9_1e18_is_rejected_as_implausible() =>
        Assert.Equal(DeadLetterReasons.ImplausibleSequence, Rejected(KafkaTestKit.Metadata("cam-a", 1) with { Sequence = 9_100_000_000_000_000_000 }, KafkaTestKit.Jpeg(1)).Reason);

    [Fact]
    public void A_capture_time_two_minutes_ahead_of_the_clock_is_rejected_as_implausible() =>
        Assert.Equal(DeadLetterReasons.ImplausibleSequence, Rejected(KafkaTestKit.Metadata("cam-a", 1) with { CaptureTime = Now.AddMinutes(2) }, KafkaTestKit.Jpeg(1)).Reason);

    [Fact]
    public void Random_bytes_under_random_headers_are_only_ever_rejected_with_a_dead_letter_reason()
    {
        var rng = new Random(Seed);
        var outcomes = Fuzz(FuzzCases, _ =>
        {
            var value = new byte[rng.Next(0, 3000)];
            rng.NextBytes(value);
            if (value.Length >= 4 && rng.Next(2) == 0)
            {
                (value[0], value[1], value[^2], value[^1]) = (0xFF, 0xD8, 0xFF, 0xD9); // get past the framing check
            }

            // Half the cases under a valid camera's headers (so the bytes reach the image checks), half under random ones.
            var valid = FrameHeaders.Write(KafkaTestKit.Metadata(new[] { "cam-a", "cam-b", "cam-c" }[rng.Next(3)], rng.Next(1000)));
            if (rng.Next(2) == 0)
            {
                return (valid, value);
            }

            var headers = new Headers();
            foreach (var name in FrameHeaders.All.Where(_ => rng.Next(4) > 0))
            {
                headers.Add(name, rng.Next(2) == 0 ? valid.GetLastBytes(name) : rng.Next(2) == 0 ? RandomBytes(rng, 12) : Encoding.UTF8.GetBytes(Interesting[rng.Next(Interesting.Length)]));
            }

            return (headers, value);
        });

        Assert.Equal(0, outcomes.GetValueOrDefault("decoded"));
    }

    [Fact]
    public void Mutated_valid_messages_are_decoded_or_rejected_with_a_dead_letter_reason_in_bounded_time()
    {
        var rng = new Random(Seed + 1);
        var outcomes = Fuzz(FuzzCases, _ =>
        {
            var camera = new[] { "cam-a", "cam-b", "cam-c" }[rng.Next(3)];
            var sequence = rng.Next(0, 1000);
            var headers = FrameHeaders.Write(KafkaTestKit.Metadata(camera, sequence));
            var value = rng.Next(10) switch
            {
                0 => HostileImages.Jpeg(rng.Next(1, 65536), rng.Next(1, 65536)),
                1 => ImageCodec.EncodePng(KafkaTestKit.Image(sequence)),
                _ => KafkaTestKit.Jpeg(sequence),
            };
            for (var mutations = rng.Next(0, 5); mutations > 0; mutations--)
            {
                (headers, value) = Mutate(rng, headers, value);
            }

            return (headers, value);
        });

        Assert.True(outcomes.GetValueOrDefault("decoded") > 0, "some mutated messages still decode");
        Assert.True(outcomes.Count > 5, "the mutations reach several of the decoder's checks");
    }

    /// <summary>
    /// Decodes <paramref name="cases"/> generated messages; fails on any exception other than
    /// <see cref="FrameRejectedException"/> with a known reason, or a case slower than
    /// <see cref="CaseBound"/>. Returns how many ended each way ("decoded" or the reason).
    /// </summary>
    private Dictionary<string, int> Fuzz(int cases, Func<int, (Headers Headers, byte[] Value)> generate)
    {
        var decoder = Decoder();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var slowest = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < cases; i++)
        {
            var (headers, value) = generate(i);
            var watch = Stopwatch.StartNew();
            string outcome;
            try
            {
                decoder.Decode(headers, value);
                outcome = "decoded";
            }
            catch (FrameRejectedException rejected)
            {
                outcome = rejected.Reason;
                if (!DeadLetterReasons.All.Contains(rejected.Reason) || string.IsNullOrWhiteSpace(rejected.Message))
                {
                    failures.Add($"case {i}: reason '{rejected.Reason}', detail '{rejected.Message}'");
                }
            }
            catch (Exception ex)
            {
                outcome = "crash";
                failures.Add($"case {i}: {ex.GetType().Name}: {ex.Message}");
            }

            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            if (watch.Elapsed > CaseBound)
            {
                failures.Add($"case {i}: took {watch.Elapsed.TotalMilliseconds:F0} ms");
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cases} cases in {total.Elapsed.TotalSeconds:F1} s (slowest {slowest.TotalMilliseconds:F1} ms): {string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))}"));
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases (seed {Seed}) failed: {string.Join("; ", failures.Take(5))}");
        return outcomes;
    }

    private static (Headers, byte[]) Mutate(Random rng, Headers headers, byte[] value)
    {
        var bytes = value.ToList();
        var list = headers.Select(h => (h.Key, Value: h.GetValueBytes())).ToList();
        switch (rng.Next(10))
        {
            case 0 when bytes.Count > 0:
                var bit = rng.Next(bytes.Count * 8);
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                break;
            case 1 when bytes.Count > 0:
                bytes[rng.Next(bytes.Count)] = (byte)rng.Next(256);
                break;
            case 2:
                var cut = rng.Next(bytes.Count + 1);
                bytes.RemoveRange(cut, bytes.Count - cut);
                break;
            case 3:
                bytes.InsertRange(rng.Next(bytes.Count + 1), RandomBytes(rng, rng.Next(1, 64)));
                break;
            case 4 when bytes.Count > 0:
                var from = rng.Next(bytes.Count);
                var length = rng.Next(1, Math.Min(256, bytes.Count - from) + 1);
                bytes.InsertRange(rng.Next(bytes.Count + 1), bytes.GetRange(from, length));
                break;
            case 5:
                var sof = Enumerable.Range(0, Math.Max(0, bytes.Count - 8)).FirstOrDefault(k => bytes[k] == 0xFF && bytes[k + 1] == 0xC0, -1);
                if (sof >= 0)
                {
                    ushort[] sizes = [0, 1, 48, 64, 8192, 8193, 30000, 65535, (ushort)rng.Next(65536)];
                    var (w, h) = (sizes[rng.Next(sizes.Length)], sizes[rng.Next(sizes.Length)]);
                    (bytes[sof + 5], bytes[sof + 6], bytes[sof + 7], bytes[sof + 8]) = ((byte)(h >> 8), (byte)h, (byte)(w >> 8), (byte)w);
                }

                break;
            case 6 when list.Count > 0:
                var i = rng.Next(list.Count);
                list[i] = (list[i].Key, RandomBytes(rng, rng.Next(0, 24)));
                break;
            case 7 when list.Count > 0:
                var j = rng.Next(list.Count);
                list[j] = (list[j].Key, Encoding.UTF8.GetBytes(Interesting[rng.Next(Interesting.Length)]));
                break;
            case 8 when list.Count > 0:
                list.RemoveAt(rng.Next(list.Count));
                break;
            case 9:
                list.Add((FrameHeaders.All[rng.Next(FrameHeaders.All.Count)], Encoding.UTF8.GetBytes(Interesting[rng.Next(Interesting.Length)])));
                break;
        }

        var mutated = new Headers();
        foreach (var (key, bytesOfValue) in list)
        {
            mutated.Add(key, bytesOfValue);
        }

        return (mutated, bytes.ToArray());
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }
}
