using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Vision.Models.Pretrained;

/// <summary>
/// Reads protobuf's wire format from a byte slice without copying it: field by field, with
/// varints, 32-bit floats, and length-delimited slices (strings, packed values, nested messages)
/// that are views of the same bytes. A slice that ends early or holds an invalid field fails with
/// <see cref="InvalidDataFileException"/> naming <c>path</c>.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, string path)
{
    public const int VarintType = 0;
    public const int Fixed64Type = 1;
    public const int LengthDelimitedType = 2;
    public const int Fixed32Type = 5;

    private readonly ReadOnlySpan<byte> data = data;
    private int position;

    /// <summary>The current field's number (&gt; 0), after <see cref="Next"/> returned true.</summary>
    public int Field { get; private set; }

    /// <summary>The current field's wire type (one of the constants above).</summary>
    public int WireType { get; private set; }

    /// <summary>True while bytes are left (for packed repeated values).</summary>
    public readonly bool HasMore => position < data.Length;

    /// <summary>Reads the next field's tag; false at the end of the slice.</summary>
    public bool Next()
    {
        if (!HasMore)
        {
            return false;
        }

        var tag = Varint();
        if (tag >> 3 is 0 or > int.MaxValue)
        {
            throw Corrupt($"field number {tag >> 3}");
        }

        (Field, WireType) = ((int)(tag >> 3), (int)(tag & 7));
        return true;
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Take(1)[0];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Corrupt("a varint longer than 10 bytes");
    }

    public float Float() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public ReadOnlySpan<byte> Bytes()
    {
        var length = Varint();
        return length <= (ulong)(data.Length - position) ? Take((int)length) : throw Corrupt($"a field of {length} bytes where {data.Length - position} are left");
    }

    public string Text() => Encoding.UTF8.GetString(Bytes());

    /// <summary>A packed run of little-endian float32 values (raw_data, packed float_data).</summary>
    public ReadOnlySpan<float> Floats()
    {
        var bytes = Bytes();
        return BitConverter.IsLittleEndian && bytes.Length % sizeof(float) == 0
            ? MemoryMarshal.Cast<byte, float>(bytes)
            : throw Corrupt($"{bytes.Length} bytes of float32 values");
    }

    /// <summary>Skips the current field's value.</summary>
    public void Skip()
    {
        _ = WireType switch
        {
            VarintType => Varint(),
            Fixed64Type => (ulong)Take(8).Length,
            LengthDelimitedType => (ulong)Bytes().Length,
            Fixed32Type => (ulong)Take(4).Length,
            _ => throw Corrupt($"wire type {WireType}"),
        };
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > data.Length - position)
        {
            throw Corrupt("the data ends inside a field");
        }

        var slice = data.Slice(position, count);
        position += count;
        return slice;
    }

    private readonly InvalidDataFileException Corrupt(string what) => new(path, $"not an ONNX model, or truncated (protobuf wire format: {what})");
}
