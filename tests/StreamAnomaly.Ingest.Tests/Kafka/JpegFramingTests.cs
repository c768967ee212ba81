using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Tests.Clips;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class JpegFramingTests
{
    [Fact]
    public void A_JPEG_cut_anywhere_fails_the_framing_check()
    {
        // OpenCV 4.13 (official linux-x64 runtime) happens to refuse every cut JPEG too; older
        // builds and other libjpeg versions fill the missing rows and only warn. The check does
        // not depend on which decoder is loaded.
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Random(128, 96, 1));
        for (var cut = 4; cut < jpeg.Length - 1; cut += 7)
        {
            Assert.False(JpegFraming.IsComplete(jpeg.AsSpan(0, cut), out var problem), $"cut at {cut} of {jpeg.Length} bytes");
            Assert.StartsWith("truncated JPEG", problem, StringComparison.Ordinal);
        }

        Assert.False(JpegFraming.IsComplete(jpeg.AsSpan(0, jpeg.Length - 1), out _));
    }

    [Fact]
    public void A_whole_JPEG_is_complete_also_with_trailing_zero_padding()
    {
        var jpeg = KafkaTestKit.Jpeg(1);

        Assert.True(JpegFraming.IsComplete(jpeg, out _));
        Assert.True(JpegFraming.IsComplete([.. jpeg, 0, 0, 0], out _));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF })]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0xFF, 0xD9 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10 })]
    public void Bytes_without_both_markers_are_not_complete(byte[] bytes)
    {
        Assert.False(JpegFraming.IsComplete(bytes, out var problem));
        Assert.NotEmpty(problem);
    }
}
