using System.Runtime.InteropServices;
using OpenCvSharp;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Ingest.Clips;

/// <summary>
/// Small OpenCV helpers shared by the clip, camera and Kafka code: conversions between the Core
/// image types and <see cref="Mat"/>, and PNG/JPEG files and byte buffers with one-line errors.
/// Frames are 8-bit BGR (<c>CV_8UC3</c>); masks are 8-bit single channel (<c>CV_8UC1</c>) with
/// 255 inside and 0 outside when written, and any non-zero value read as inside.
/// </summary>
public static class ImageCodec
{
    /// <summary>Default JPEG quality (0..100) for <see cref="EncodeJpeg"/>.</summary>
    public const int DefaultJpegQuality = 90;

    /// <summary>A new <c>CV_8UC3</c> Mat holding a copy of the frame's pixels; the caller disposes it.</summary>
    public static Mat ToMat(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var mat = new Mat(frame.Height, frame.Width, MatType.CV_8UC3);
        Marshal.Copy(frame.Bgr, 0, mat.Data, frame.Bgr.Length);
        return mat;
    }

    /// <summary>
    /// Copies a Mat into a <see cref="Frame"/>. Accepts 8-bit BGR, grey (replicated to three channels)
    /// and BGRA (alpha dropped); any other type is an <see cref="ArgumentException"/>.
    /// </summary>
    public static Frame ToFrame(Mat mat)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Empty())
        {
            throw new ArgumentException("the Mat is empty", nameof(mat));
        }

        if (mat.Type() == MatType.CV_8UC3)
        {
            return new Frame(mat.Width, mat.Height, CopyPixels(mat, 3));
        }

        var code = mat.Type() == MatType.CV_8UC1 ? ColorConversionCodes.GRAY2BGR
            : mat.Type() == MatType.CV_8UC4 ? ColorConversionCodes.BGRA2BGR
            : throw new ArgumentException($"expected an 8-bit grey, BGR or BGRA image, got {mat.Type()}", nameof(mat));
        using var bgr = new Mat();
        Cv2.CvtColor(mat, bgr, code);
        return new Frame(bgr.Width, bgr.Height, CopyPixels(bgr, 3));
    }

    /// <summary>A new <c>CV_8UC1</c> Mat: 255 inside the mask, 0 outside; the caller disposes it.</summary>
    public static Mat ToMat(BinaryMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var bytes = new byte[mask.Data.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = mask.Data[i] ? (byte)255 : (byte)0;
        }

        var mat = new Mat(mask.Height, mask.Width, MatType.CV_8UC1);
        Marshal.Copy(bytes, 0, mat.Data, bytes.Length);
        return mat;
    }

    /// <summary>Reads a <c>CV_8UC1</c> Mat as a mask: non-zero pixels are inside.</summary>
    public static BinaryMask ToMask(Mat mat)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Empty() || mat.Type() != MatType.CV_8UC1)
        {
            throw new ArgumentException($"expected a non-empty 8-bit single-channel image, got {mat.Type()}", nameof(mat));
        }

        var bytes = CopyPixels(mat, 1);
        var data = new bool[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            data[i] = bytes[i] != 0;
        }

        return new BinaryMask(mat.Width, mat.Height, data);
    }

    /// <summary>JPEG bytes of the frame; <paramref name="quality"/> in 1..100.</summary>
    public static byte[] EncodeJpeg(Frame frame, int quality = DefaultJpegQuality)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        using var mat = ToMat(frame);
        return Encode(".jpg", mat, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
    }

    /// <summary>Lossless PNG bytes of the frame.</summary>
    public static byte[] EncodePng(Frame frame)
    {
        using var mat = ToMat(frame);
        return Encode(".png", mat);
    }

    /// <summary>
    /// Reads the header of JPEG, PNG or BMP bytes without decoding them (<see cref="ImageHeader"/>)
    /// and checks the declared size against <paramref name="limits"/> (<see cref="ImageLimits.Default"/>
    /// when null). Another format, a cut or malformed header, more bytes than an image within the
    /// limits can take, or a size above the limits is an <see cref="InvalidDataException"/> with a
    /// one-line message.
    /// </summary>
    public static ImageHeader CheckHeader(ReadOnlySpan<byte> encoded, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (encoded.Length > limits.MaxEncodedBytes)
        {
            throw new InvalidDataException($"{encoded.Length} bytes is more than an image within the limits can take ({limits.MaxEncodedBytes})");
        }

        if (!ImageHeader.TryRead(encoded, out var header, out var problem))
        {
            throw new InvalidDataException(problem);
        }

        return limits.Check(header.Width, header.Height) is { } tooLarge ? throw new InvalidDataException(tooLarge) : header;
    }

    /// <summary>
    /// Decodes JPEG, PNG or BMP bytes to a BGR frame. The header is checked first
    /// (<see cref="CheckHeader"/>), so nothing above <paramref name="limits"/> is ever decoded;
    /// bytes refused there or that OpenCV cannot decode are an <see cref="InvalidDataException"/>.
    /// </summary>
    public static Frame DecodeFrame(byte[] encoded, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0)
        {
            throw new InvalidDataException("cannot decode an image from 0 bytes");
        }

        var header = CheckHeader(encoded, limits);
        using var mat = Decode(encoded, ImreadModes.Color, header) ?? throw new InvalidDataException($"cannot decode a {header.Width}x{header.Height} {header.Format.ToUpperInvariant()} from {encoded.Length} bytes (corrupt)");
        return ToFrame(mat);
    }

    /// <summary>
    /// Reads an image file as a BGR frame; a missing, unreadable or corrupt file, or one whose
    /// header declares more than <paramref name="limits"/> (<see cref="ImageLimits.Default"/> when
    /// null; checked before decoding), throws <see cref="InvalidDataFileException"/> naming the file.
    /// </summary>
    public static Frame ReadFrame(string path, ImageLimits? limits = null)
    {
        using var mat = ReadMat(path, ImreadModes.Color, limits);
        return ToFrame(mat);
    }

    /// <summary>Writes a frame to an image file; the extension (.png, .jpg, .bmp) picks the format.</summary>
    public static void WriteFrame(string path, Frame frame)
    {
        using var mat = ToMat(frame);
        Write(path, mat);
    }

    /// <summary>
    /// Reads an 8-bit single-channel mask image (non-zero = inside); any other pixel type, an
    /// unreadable file or one above <paramref name="limits"/> (checked before decoding) throws
    /// <see cref="InvalidDataFileException"/> naming the file.
    /// </summary>
    public static BinaryMask ReadMask(string path, ImageLimits? limits = null)
    {
        using var mat = ReadMat(path, ImreadModes.Unchanged, limits);
        if (mat.Type() != MatType.CV_8UC1)
        {
            throw new InvalidDataFileException(path, $"expected an 8-bit single-channel mask image, got {mat.Type()}");
        }

        return ToMask(mat);
    }

    /// <summary>Writes a mask as an 8-bit single-channel PNG (255 inside, 0 outside).</summary>
    public static void WriteMask(string path, BinaryMask mask)
    {
        using var mat = ToMat(mask);
        Write(path, mat);
    }

    private static Mat ReadMat(string path, ImreadModes mode, ImageLimits? limits)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        limits ??= ImageLimits.Default;
        FileKinds.EnsureRegularOrMissing(path);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new InvalidDataFileException(path, "image file not found");
        }

        if (file.Length > limits.MaxEncodedBytes)
        {
            throw new InvalidDataFileException(path, $"{file.Length} bytes is more than an image within the limits can take ({limits.MaxEncodedBytes})");
        }

        // Decode from bytes rather than Cv2.ImRead: ImRead says nothing about why it failed, and
        // the header must be checked before anything is decoded.
        var bytes = File.ReadAllBytes(path);
        ImageHeader header;
        try
        {
            header = CheckHeader(bytes, limits);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataFileException(path, ex.Message, ex);
        }

        return Decode(bytes, mode, header)
            ?? throw new InvalidDataFileException(path, $"not a readable image ({bytes.Length} bytes; a corrupt {header.Width}x{header.Height} {header.Format.ToUpperInvariant()})");
    }

    /// <summary>The decoded image, or null when OpenCV cannot decode it or it does not have the size its header declared.</summary>
    private static Mat? Decode(byte[] bytes, ImreadModes mode, ImageHeader header)
    {
        Mat mat;
        try
        {
            mat = Cv2.ImDecode(bytes, mode);
        }
        catch (OpenCVException)
        {
            return null;
        }

        if (mat.Empty() || mat.Width != header.Width || mat.Height != header.Height)
        {
            mat.Dispose();
            return null;
        }

        return mat;
    }

    private static void Write(string path, Mat mat)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encode(Path.GetExtension(path), mat);
        File.WriteAllBytes(path, bytes);
    }

    private static byte[] Encode(string extension, Mat mat, params ImageEncodingParam[] parameters)
    {
        try
        {
            Cv2.ImEncode(extension, mat, out var bytes, parameters);
            return bytes;
        }
        catch (OpenCVException ex)
        {
            throw new InvalidOperationException($"OpenCV could not encode a {mat.Width}x{mat.Height} image as '{extension}': {ex.ErrMsg}", ex);
        }
    }

    private static byte[] CopyPixels(Mat mat, int channels)
    {
        var bytes = new byte[checked(mat.Width * mat.Height * channels)];
        if (mat.IsContinuous())
        {
            Marshal.Copy(mat.Data, bytes, 0, bytes.Length);
            return bytes;
        }

        using var continuous = mat.Clone();
        Marshal.Copy(continuous.Data, bytes, 0, bytes.Length);
        return bytes;
    }
}
