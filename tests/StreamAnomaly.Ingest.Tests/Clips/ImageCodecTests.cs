using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Tests.Clips;

public sealed class ImageCodecTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Frame_to_Mat_and_back_is_exact()
    {
        var frame = TestImages.Random(33, 17, seed: 1);

        using var mat = ImageCodec.ToMat(frame);

        Assert.Equal(frame.Bgr, ImageCodec.ToFrame(mat).Bgr);
    }

    [Fact]
    public void Mask_to_Mat_and_back_is_exact()
    {
        var mask = TestImages.Rectangle(31, 9, 2, 1, 20, 7);

        using var mat = ImageCodec.ToMat(mask);

        Assert.Equal(mask.Data, ImageCodec.ToMask(mat).Data);
    }

    [Fact]
    public void Png_encode_decode_is_exact()
    {
        var frame = TestImages.Random(40, 30, seed: 2);

        Assert.Equal(frame.Bgr, ImageCodec.DecodeFrame(ImageCodec.EncodePng(frame)).Bgr);
    }

    [Fact]
    public void Jpeg_encode_decode_keeps_size_with_small_error()
    {
        var frame = TestImages.Smooth(64, 48, 0);

        var decoded = ImageCodec.DecodeFrame(ImageCodec.EncodeJpeg(frame, quality: 90));

        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
        Assert.True(TestImages.MeanAbsoluteError(frame, decoded) < 3.0);
    }

    [Fact]
    public void DecodeFrame_of_garbage_bytes_throws_InvalidDataException()
    {
        Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeFrame([1, 2, 3, 4]));
    }

    [Fact]
    public void DecodeFrame_refuses_a_jpeg_declaring_30000x30000_pixels_before_decoding_it()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeFrame(HostileImages.Jpeg()));
        Assert.Equal("the image declares 30000x30000 pixels, above the limit of 8192 px per side", ex.Message);
    }

    [Fact]
    public void ReadFrame_of_a_69_byte_png_declaring_100000x100000_pixels_throws_naming_the_file()
    {
        var path = _temp.Combine("bomb.png");
        File.WriteAllBytes(path, HostileImages.Png());
        Assert.Equal(69, new FileInfo(path).Length);

        var ex = Assert.Throws<InvalidDataFileException>(() => ImageCodec.ReadFrame(path));

        Assert.Equal($"{path}: the image declares 100000x100000 pixels, above the limit of 8192 px per side", ex.Message);
    }

    [Fact]
    public void ReadMask_of_an_oversize_png_throws_naming_the_file()
    {
        var path = _temp.Combine("mask.png");
        File.WriteAllBytes(path, HostileImages.Png(6000, 7500));

        var ex = Assert.Throws<InvalidDataFileException>(() => ImageCodec.ReadMask(path, new ImageLimits { MaxPixels = 40_000_000 }));

        Assert.Contains("45,000,000 pixels", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFrame_of_a_tiff_file_is_refused_although_OpenCV_could_decode_it()
    {
        var path = _temp.Combine("frame.png");
        using (var mat = ImageCodec.ToMat(TestImages.Random(8, 8, seed: 3)))
        {
            OpenCvSharp.Cv2.ImEncode(".tiff", mat, out var tiff);
            File.WriteAllBytes(path, tiff);
        }

        var ex = Assert.Throws<InvalidDataFileException>(() => ImageCodec.ReadFrame(path));

        Assert.StartsWith("not a JPEG, PNG or BMP image", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".jpg", 1, 1)]
    [InlineData(".jpg", 641, 479)]
    [InlineData(".png", 1, 300)]
    [InlineData(".png", 257, 3)]
    [InlineData(".bmp", 5, 7)]
    [InlineData(".bmp", 640, 480)]
    public void The_header_reader_reads_the_size_OpenCV_encoded(string extension, int width, int height)
    {
        using var mat = ImageCodec.ToMat(TestImages.Random(width, height, seed: width));
        OpenCvSharp.Cv2.ImEncode(extension, mat, out var encoded);

        Assert.True(ImageHeader.TryRead(encoded, out var header, out var problem), problem);
        Assert.Equal((width, height), (header.Width, header.Height));
    }

    [Fact]
    public void ReadFrame_of_a_corrupt_file_throws_naming_the_file()
    {
        var path = _temp.Combine("x.png");
        File.WriteAllBytes(path, [9, 9, 9]);

        var ex = Assert.Throws<InvalidDataFileException>(() => ImageCodec.ReadFrame(path));

        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void WriteMask_writes_an_8_bit_single_channel_png_that_ReadMask_reads_exactly()
    {
        var mask = TestImages.Rectangle(20, 10, 0, 0, 7, 3);
        var path = _temp.Combine("m.png");

        ImageCodec.WriteMask(path, mask);

        Assert.Equal(mask.Data, ImageCodec.ReadMask(path).Data);
    }

    [Fact]
    public void ReadMask_treats_any_non_zero_value_as_inside()
    {
        var path = _temp.Combine("m.png");
        using (var mat = new OpenCvSharp.Mat(2, 2, OpenCvSharp.MatType.CV_8UC1, OpenCvSharp.Scalar.All(0)))
        {
            mat.Set(0, 1, (byte)1);
            OpenCvSharp.Cv2.ImWrite(path, mat);
        }

        Assert.Equal([false, true, false, false], ImageCodec.ReadMask(path).Data);
    }
}
