using System.Buffers.Binary;
using System.Text;
using StreamAnomaly.Vision.Models.Pretrained;

namespace StreamAnomaly.Vision.Tests.Models.Pretrained;

/// <summary>The shipped ONNX files, read once and shared by the tests of this folder (which then run one at a time).</summary>
public sealed class PretrainedFixture : IDisposable
{
    public PretrainedFixture()
    {
        Graph = OnnxModel.Read(ModelPath);
        Network = PretrainedResNet18.FromGraph(Graph, ResNetPreprocessing.Load(PreprocessPath));
    }

    public static string ModelPath => Path.Combine(PretrainedResNet18.DefaultDirectory, PretrainedResNet18.ModelFileName);

    public static string PreprocessPath => Path.Combine(PretrainedResNet18.DefaultDirectory, PretrainedResNet18.PreprocessFileName);

    public PretrainedResNet18 Network { get; }

    internal OnnxGraph Graph { get; }

    public void Dispose() => Network.Dispose();
}

[CollectionDefinition(Name)]
public sealed class PretrainedCollection : ICollectionFixture<PretrainedFixture>
{
    public const string Name = "pretrained ResNet-18";
}

/// <summary>
/// Writes protobuf's wire format by hand (builder style), for hand-built ONNX models and extra
/// graph outputs. ONNX Runtime parsing what it writes is the check that it is right.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream buffer = new();

    public static byte[] Message(Action<ProtoWriter> write)
    {
        var writer = new ProtoWriter();
        write(writer);
        return writer.buffer.ToArray();
    }

    /// <summary>A ValueInfoProto: the name and a float tensor type.</summary>
    public static byte[] FloatValue(string name) => Message(v => v
        .Text(1, name)
        .Message(2, type => type.Message(1, tensor => tensor.Varint(1, 1))));

    /// <summary>
    /// <paramref name="model"/> with more graph outputs. Protobuf merges a message field that
    /// appears twice and appends to repeated fields, so appending a ModelProto whose graph holds
    /// only outputs adds them to the graph.
    /// </summary>
    public static byte[] WithOutputs(byte[] model, params string[] names) =>
        [.. model, .. Message(m => m.Message(7, g =>
        {
            foreach (var name in names)
            {
                g.Bytes(12, FloatValue(name));
            }
        }))];

    public ProtoWriter Varint(int field, long value) => Tag(field, 0).Raw((ulong)value);

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        buffer.Write(bytes);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Tag(field, 2).Raw((ulong)bytes.Length);
        buffer.Write(bytes);
        return this;
    }

    public ProtoWriter Text(int field, string text) => Bytes(field, Encoding.UTF8.GetBytes(text));

    public ProtoWriter Message(int field, Action<ProtoWriter> write) => Bytes(field, Message(write));

    public ProtoWriter PackedVarints(int field, params long[] values) => Message(field, packed =>
    {
        foreach (var value in values)
        {
            packed.Raw((ulong)value);
        }
    });

    public ProtoWriter PackedFloats(int field, params float[] values) =>
        Bytes(field, [.. values.SelectMany(static v => BitConverter.GetBytes(v))]);

    private ProtoWriter Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

    private ProtoWriter Raw(ulong value)
    {
        for (; value >= 0x80; value >>= 7)
        {
            buffer.WriteByte((byte)(value | 0x80));
        }

        buffer.WriteByte((byte)value);
        return this;
    }
}
