using System.Buffers.Binary;

namespace StreamAnomaly.Core.Imaging;

/// <summary>
/// The format and pixel size an encoded image declares, read from its header without decoding a
/// pixel, so that a tiny file declaring a huge image can be refused before a decoder allocates
/// for it. Only the formats this project reads are recognised: JPEG (the first SOF marker's frame
/// header), PNG (the IHDR chunk, which must come first) and BMP (the file and DIB headers);
/// anything else (TIFF, WebP, PNM, ... which OpenCV would also decode) is refused.
/// </summary>
/// <param name="Format">One of <see cref="Jpeg"/>, <see cref="Png"/>, <see cref="Bmp"/>.</param>
/// <param name="Width">Declared width in pixels, &gt; 0.</param>
/// <param name="Height">Declared height in pixels, &gt; 0 (a top-down BMP's negative height is returned positive).</param>
public readonly record struct ImageHeader(string Format, int Width, int Height)
{
    public const string Jpeg = "jpeg";
    public const string Png = "png";
    public const string Bmp = "bmp";

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Declared pixel count (width x height).</summary>
    public long Pixels => (long)Width * Height;

    /// <summary>
    /// Reads the header of a JPEG, PNG or BMP. False, with a one-line <paramref name="problem"/>,
    /// when the bytes are another format, the header is cut off or malformed, or a side is 0 or
    /// above <see cref="int.MaxValue"/>. Reads at most the bytes given; never throws.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out ImageHeader header, out string problem)
    {
        header = default;
        if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8)
        {
            return TryReadJpeg(bytes, out header, out problem);
        }

        if (bytes.StartsWith(PngSignature))
        {
            return TryReadPng(bytes, out header, out problem);
        }

        if (bytes.Length >= 2 && bytes[0] == (byte)'B' && bytes[1] == (byte)'M')
        {
            return TryReadBmp(bytes, out header, out problem);
        }

        problem = $"not a JPEG, PNG or BMP image ({bytes.Length} bytes starting {Convert.ToHexString(bytes[..Math.Min(8, bytes.Length)])})";
        return false;
    }

    // JPEG: SOI, then marker segments (FF, marker byte, 2-byte big-endian length that counts itself)
    // up to the frame header SOFn: length, precision, height, width, components. A scan (SOS) or
    // the end (EOI) before any SOF means there is no frame header.
    private static bool TryReadJpeg(ReadOnlySpan<byte> bytes, out ImageHeader header, out string problem)
    {
        header = default;
        var i = 2;
        while (true)
        {
            if (i >= bytes.Length)
            {
                problem = $"JPEG without a frame header (SOF) in its {bytes.Length} bytes";
                return false;
            }

            if (bytes[i] != 0xFF)
            {
                problem = $"malformed JPEG: expected a marker at byte {i}, found {bytes[i]:X2}";
                return false;
            }

            while (i < bytes.Length && bytes[i] == 0xFF)
            {
                i++; // fill bytes before a marker
            }

            if (i >= bytes.Length)
            {
                problem = $"JPEG cut off inside a marker at byte {i}";
                return false;
            }

            var marker = bytes[i++];
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                continue; // restart markers and TEM have no length
            }

            if (marker is 0x00 or 0xD8 or 0xD9 or 0xDA)
            {
                problem = $"malformed JPEG: marker FF {marker:X2} at byte {i - 2} before any frame header (SOF)";
                return false;
            }

            if (i + 2 > bytes.Length)
            {
                problem = $"JPEG cut off in the length of marker FF {marker:X2}";
                return false;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
            if (length < 2)
            {
                problem = $"malformed JPEG: marker FF {marker:X2} at byte {i - 2} has length {length}";
                return false;
            }

            if (IsStartOfFrame(marker))
            {
                if (length < 8 || i + 7 > bytes.Length)
                {
                    problem = $"JPEG frame header (FF {marker:X2}) cut off or too short ({length} bytes)";
                    return false;
                }

                int height = BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 3)..]);
                int width = BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 5)..]);
                return Sized(Jpeg, width, height, out header, out problem);
            }

            i += length;
        }
    }

    // SOF0-3, 5-7, 9-11, 13-15; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
    private static bool IsStartOfFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;

    // PNG: signature, then the IHDR chunk: 4-byte length (13), "IHDR", width and height as
    // big-endian unsigned 32-bit integers.
    private static bool TryReadPng(ReadOnlySpan<byte> bytes, out ImageHeader header, out string problem)
    {
        header = default;
        if (bytes.Length < 24)
        {
            problem = $"PNG cut off before its IHDR chunk ({bytes.Length} bytes)";
            return false;
        }

        if (!bytes[12..16].SequenceEqual("IHDR"u8) || BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) != 13)
        {
            problem = "malformed PNG: the first chunk is not a 13-byte IHDR";
            return false;
        }

        var width = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
        var height = BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]);
        return Sized(Png, width, height, out header, out problem);
    }

    // BMP: 14-byte file header ("BM"), then the DIB header whose first 4 bytes are its size:
    // 12 (OS/2 core header: 16-bit width and height) or more (32-bit signed width and height;
    // a negative height means rows run top-down).
    private static bool TryReadBmp(ReadOnlySpan<byte> bytes, out ImageHeader header, out string problem)
    {
        header = default;
        if (bytes.Length < 18)
        {
            problem = $"BMP cut off before its DIB header ({bytes.Length} bytes)";
            return false;
        }

        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes[14..]);
        if (dibSize == 12)
        {
            if (bytes.Length < 22)
            {
                problem = $"BMP cut off in its core header ({bytes.Length} bytes)";
                return false;
            }

            return Sized(Bmp, BinaryPrimitives.ReadUInt16LittleEndian(bytes[18..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[20..]), out header, out problem);
        }

        if (dibSize < 16)
        {
            problem = $"malformed BMP: DIB header size {dibSize}";
            return false;
        }

        if (bytes.Length < 26)
        {
            problem = $"BMP cut off in its DIB header ({bytes.Length} bytes)";
            return false;
        }

        long width = BinaryPrimitives.ReadInt32LittleEndian(bytes[18..]);
        long height = BinaryPrimitives.ReadInt32LittleEndian(bytes[22..]);
        if (width < 0)
        {
            problem = $"malformed BMP: width {width}";
            return false;
        }

        return Sized(Bmp, width, Math.Abs(height), out header, out problem);
    }

    private static bool Sized(string format, long width, long height, out ImageHeader header, out string problem)
    {
        if (width is <= 0 or > int.MaxValue || height is <= 0 or > int.MaxValue)
        {
            header = default;
            problem = $"the {format.ToUpperInvariant()} header declares an invalid size {width}x{height}";
            return false;
        }

        header = new ImageHeader(format, (int)width, (int)height);
        problem = string.Empty;
        return true;
    }
}
