using System.Buffers.Binary;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Tests.Clips;

/// <summary>Small, well-formed image files whose headers declare a huge size: what an attacker sends.</summary>
internal static class HostileImages
{
    /// <summary>
    /// A real 8x8 JPEG (quantisation and Huffman tables, one scan) whose frame header (SOF0) was
    /// patched to declare <paramref name="width"/> x <paramref name="height"/>: a few hundred
    /// bytes that a decoder would size a 30000x30000 frame (2.7 GB of BGR) for.
    /// </summary>
    public static byte[] Jpeg(int width = 30000, int height = 30000)
    {
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Smooth(8, 8, 0), quality: 50);
        var sof = FindMarker(jpeg, 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        return jpeg;
    }

    /// <summary>
    /// A 69-byte PNG (IHDR, one tiny IDAT, IEND; correct CRCs) declaring
    /// <paramref name="width"/> x <paramref name="height"/> 8-bit RGB pixels.
    /// </summary>
    public static byte[] Png(uint width = 100000, uint height = 100000)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        byte[] idat = [0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01]; // zlib: one stored block holding one 0 byte
        return [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat), .. Chunk("IEND", [])];
    }

    /// <summary>Index of the FF <paramref name="marker"/> marker in a JPEG.</summary>
    public static int FindMarker(byte[] jpeg, byte marker)
    {
        for (var i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no FF {marker:X2} marker");
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, chunk.AsSpan(4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
