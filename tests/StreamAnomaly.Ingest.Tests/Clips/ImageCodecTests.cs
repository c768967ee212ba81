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
