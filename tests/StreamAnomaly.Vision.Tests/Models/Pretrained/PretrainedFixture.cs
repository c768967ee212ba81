using Google.Protobuf;
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

/// <summary>Writes small protobuf messages by hand: hand-built ONNX models, and extra graph outputs.</summary>
internal static class Protobuf
{
    public static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }

    public static void Bytes(this CodedOutputStream output, int field, byte[] bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }

    public static void Text(this CodedOutputStream output, int field, string text)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(text);
    }

    public static void Varint(this CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    /// <summary>A ValueInfoProto: the name and a float tensor type.</summary>
    public static byte[] FloatValue(string name) => Message(v =>
    {
        v.Text(1, name);
        v.Bytes(2, Message(type => type.Bytes(1, Message(tensor => tensor.Varint(1, 1)))));
    });

    /// <summary>
    /// <paramref name="model"/> with more graph outputs. Protobuf merges a message field that
    /// appears twice and appends to repeated fields, so appending a ModelProto whose graph holds
    /// only outputs adds them to the graph.
    /// </summary>
    public static byte[] WithOutputs(byte[] model, params string[] names) =>
        [.. model, .. Message(m => m.Bytes(7, Message(g =>
        {
            foreach (var name in names)
            {
                g.Bytes(12, FloatValue(name));
            }
        })))];
}
