using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Tests.Imaging;

public sealed class ImageHeaderTests
{
    /// <summary>SOI, an APP0 segment, a DQT segment, then a frame header SOFn and the start of a scan.</summary>
    internal static byte[] Jpeg(int width, int height, byte sof = 0xC0) =>
    [
        0xFF, 0xD8,
        0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01,
        0xFF, sof, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03,
        1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
        0xFF, 0xDA, 0x00, 0x02,
        0xFF, 0xD9,
    ];

    internal static byte[] Png(uint width, uint height)
    {
        byte[] bytes = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), height);
        return bytes;
    }

    private static byte[] Bmp(int width, int height)
    {
        var bytes = new byte[54];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        return bytes;
    }

    private static ImageHeader Read(byte[] bytes)
    {
        Assert.True(ImageHeader.TryRead(bytes, out var header, out var problem), problem);
        return header;
    }

    private static string Refusal(byte[] bytes)
    {
        Assert.False(ImageHeader.TryRead(bytes, out _, out var problem));
        return problem;
    }

    [Fact]
    public void A_jpeg_size_is_read_from_its_frame_header_after_the_other_segments() =>
        Assert.Equal(new ImageHeader(ImageHeader.Jpeg, 30000, 30000), Read(Jpeg(30000, 30000)));

    [Fact]
    public void A_progressive_jpeg_size_is_read_from_its_SOF2_header() =>
        Assert.Equal(new ImageHeader(ImageHeader.Jpeg, 640, 480), Read(Jpeg(640, 480, sof: 0xC2)));

    [Fact]
    public void A_huffman_table_segment_is_not_mistaken_for_a_frame_header()
    {
        var jpeg = Jpeg(64, 48).ToList();
        jpeg.InsertRange(2, new byte[] { 0xFF, 0xC4, 0x00, 0x07, 0x00, 0x01, 0x02, 0x03, 0x04 });
        Assert.Equal(new ImageHeader(ImageHeader.Jpeg, 64, 48), Read([.. jpeg]));
    }

    [Fact]
    public void A_jpeg_whose_scan_comes_before_any_frame_header_is_refused() =>
        Assert.Contains("before any frame header", Refusal([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]), StringComparison.Ordinal);

    [Fact]
    public void A_jpeg_declaring_zero_height_is_refused() =>
        Assert.Contains("invalid size 64x0", Refusal(Jpeg(64, 0)), StringComparison.Ordinal);

    [Fact]
    public void A_png_size_is_read_from_its_IHDR_chunk() =>
        Assert.Equal(new ImageHeader(ImageHeader.Png, 100000, 100000), Read(Png(100000, 100000)));

    [Fact]
    public void A_png_side_above_int_max_is_refused() =>
        Assert.Contains("invalid size", Refusal(Png(uint.MaxValue, 1)), StringComparison.Ordinal);

    [Fact]
    public void A_bmp_size_is_read_from_its_info_header() =>
        Assert.Equal(new ImageHeader(ImageHeader.Bmp, 320, 200), Read(Bmp(320, 200)));

    [Fact]
    public void A_top_down_bmp_has_its_negative_height_read_as_positive() =>
        Assert.Equal(new ImageHeader(ImageHeader.Bmp, 320, 200), Read(Bmp(320, -200)));

    [Fact]
    public void A_bmp_with_the_most_negative_height_is_refused_not_overflowed() =>
        Assert.Contains("invalid size", Refusal(Bmp(1, int.MinValue)), StringComparison.Ordinal);

    [Theory]
    [InlineData("GIF89a\u0001\u0000\u0001\u0000")]
    [InlineData("II*\u0000\u0008\u0000\u0000\u0000")]
    [InlineData("RIFF\u0000\u0000\u0000\u0000WEBPVP8 ")]
    [InlineData("P6\n30000 30000\n255\n")]
    public void Formats_other_than_jpeg_png_and_bmp_are_refused(string start) =>
        Assert.StartsWith("not a JPEG, PNG or BMP image", Refusal(System.Text.Encoding.Latin1.GetBytes(start)), StringComparison.Ordinal);

    [Fact]
    public void Every_cut_off_prefix_of_a_valid_header_is_refused()
    {
        foreach (var whole in new[] { Jpeg(64, 48), Png(64, 48), Bmp(64, 48) })
        {
            var frameHeaderEnd = whole[0] == 0xFF ? 35 : whole[0] == 'B' ? 26 : 24;
            for (var length = 0; length < frameHeaderEnd; length++)
            {
                Assert.False(ImageHeader.TryRead(whole.AsSpan(0, length), out _, out var problem), $"prefix of {length} bytes accepted");
                Assert.False(string.IsNullOrWhiteSpace(problem));
            }
        }
    }

    [Property(MaxTest = 2000)]
    public bool Any_bytes_are_read_or_refused_without_an_exception(byte[] bytes) =>
        ImageHeader.TryRead(bytes, out _, out var problem) || problem.Length > 0;

    [Property(MaxTest = 2000)]
    public Property Corrupting_any_byte_of_a_jpeg_header_never_throws() =>
        Prop.ForAll(Gen.Choose(0, Jpeg(640, 480).Length - 1).ToArbitrary(), Gen.Choose(0, 255).ToArbitrary(), (index, value) =>
        {
            var jpeg = Jpeg(640, 480);
            jpeg[index] = (byte)value;
            var read = ImageHeader.TryRead(jpeg, out var header, out var problem);
            return read ? header.Width > 0 && header.Height > 0 : problem.Length > 0;
        });
}
