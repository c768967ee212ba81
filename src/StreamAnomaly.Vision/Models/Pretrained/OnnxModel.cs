using System.Runtime.InteropServices;
using Google.Protobuf;
using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Vision.Models.Pretrained;

/// <summary>A float32 initializer: <c>Data.Length</c> is the product of <c>Dims</c>, row-major.</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, float[] Data);

/// <summary>One node attribute; only the fields this project reads (int, float, string, ints, floats).</summary>
internal sealed record OnnxAttribute(string Name, long? Int, float? Float, string? Text, long[] Ints, float[] Floats);

/// <summary>One operator: its type, the value names it reads and writes, its attributes by name.</summary>
internal sealed record OnnxNode(string OpType, string Name, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    public long[]? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;
}

/// <summary>
/// The graph of an ONNX model: nodes in file order (topological), float32 initializers by name,
/// the names of the graph's inputs (initializers excluded) and outputs, and the opset version of
/// the default domain.
/// </summary>
internal sealed record OnnxGraph(
    string Path, string Producer, long OpsetVersion, IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyDictionary<string, OnnxTensor> Initializers, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// Reads the subset of the ONNX format (onnx.proto: ModelProto, GraphProto, NodeProto,
/// AttributeProto, TensorProto) that a convolutional network stored with float32 weights needs,
/// directly from the protobuf wire format. Everything else is skipped. A file that is not such a
/// model fails with <see cref="InvalidDataFileException"/> naming it.
/// </summary>
internal static class OnnxModel
{
    private const int FloatType = 1; // TensorProto.DataType.FLOAT

    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataFileException">The file is not a readable ONNX model.</exception>
    public static OnnxGraph Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses model bytes; <paramref name="path"/> only names the source in errors.</summary>
    public static OnnxGraph Parse(byte[] bytes, string path)
    {
        try
        {
            return ReadModel(new CodedInputStream(bytes), path);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataFileException(path, $"not an ONNX model, or truncated ({e.Message})", e);
        }
    }

    private static OnnxGraph ReadModel(CodedInputStream input, string path)
    {
        (List<OnnxNode> Nodes, Dictionary<string, OnnxTensor> Initializers, List<string> Inputs, List<string> Outputs)? graph = null;
        string producer = "";
        long? opset = null, irVersion = null;
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, WireFormat.WireType.Varint): irVersion = input.ReadInt64(); break;
                case (2, WireFormat.WireType.LengthDelimited): producer = input.ReadString(); break;
                case (7, WireFormat.WireType.LengthDelimited): graph = ReadGraph(input.ReadBytes().CreateCodedInput(), path); break;
                case (8, WireFormat.WireType.LengthDelimited):
                    var (domain, version) = ReadOpset(input.ReadBytes().CreateCodedInput());
                    opset = domain is "" or "ai.onnx" ? version : opset;
                    break;
                default: input.SkipLastField(); break;
            }
        }

        if (irVersion is null || graph is not { } g || g.Nodes.Count == 0)
        {
            throw new InvalidDataFileException(path, "not an ONNX model (no IR version or no graph with nodes)");
        }

        var inputs = g.Inputs.Where(name => !g.Initializers.ContainsKey(name)).ToList();
        return new OnnxGraph(path, producer, opset ?? 0, g.Nodes, g.Initializers, inputs, g.Outputs);
    }

    private static (List<OnnxNode>, Dictionary<string, OnnxTensor>, List<string>, List<string>) ReadGraph(CodedInputStream input, string path)
    {
        var (nodes, initializers, inputs, outputs) = (new List<OnnxNode>(), new Dictionary<string, OnnxTensor>(StringComparer.Ordinal), new List<string>(), new List<string>());
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, WireFormat.WireType.LengthDelimited): nodes.Add(ReadNode(input.ReadBytes().CreateCodedInput())); break;
                case (5, WireFormat.WireType.LengthDelimited):
                    var tensor = ReadTensor(input.ReadBytes().CreateCodedInput(), path);
                    if (!initializers.TryAdd(tensor.Name, tensor))
                    {
                        throw new InvalidDataFileException(path, $"initializer '{tensor.Name}' appears twice");
                    }

                    break;
                case (11, WireFormat.WireType.LengthDelimited): inputs.Add(ReadValueInfoName(input.ReadBytes().CreateCodedInput())); break;
                case (12, WireFormat.WireType.LengthDelimited): outputs.Add(ReadValueInfoName(input.ReadBytes().CreateCodedInput())); break;
                default: input.SkipLastField(); break;
            }
        }

        return (nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ReadNode(CodedInputStream input)
    {
        var (inputs, outputs, attributes) = (new List<string>(), new List<string>(), new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal));
        string name = "", opType = "";
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, WireFormat.WireType.LengthDelimited): inputs.Add(input.ReadString()); break;
                case (2, WireFormat.WireType.LengthDelimited): outputs.Add(input.ReadString()); break;
                case (3, WireFormat.WireType.LengthDelimited): name = input.ReadString(); break;
                case (4, WireFormat.WireType.LengthDelimited): opType = input.ReadString(); break;
                case (5, WireFormat.WireType.LengthDelimited):
                    var attribute = ReadAttribute(input.ReadBytes().CreateCodedInput());
                    attributes[attribute.Name] = attribute;
                    break;
                default: input.SkipLastField(); break;
            }
        }

        return new OnnxNode(opType, name, [.. inputs], [.. outputs], attributes);
    }

    private static OnnxAttribute ReadAttribute(CodedInputStream input)
    {
        var (ints, floats) = (new List<long>(), new List<float>());
        string name = "";
        string? text = null;
        long? i = null;
        float? f = null;
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, WireFormat.WireType.LengthDelimited): name = input.ReadString(); break;
                case (2, WireFormat.WireType.Fixed32): f = input.ReadFloat(); break;
                case (3, WireFormat.WireType.Varint): i = input.ReadInt64(); break;
                case (4, WireFormat.WireType.LengthDelimited): text = input.ReadBytes().ToStringUtf8(); break;
                case (7, var wire): ReadRepeated(input, wire, WireFormat.WireType.Fixed32, floats, static s => s.ReadFloat()); break;
                case (8, var wire): ReadRepeated(input, wire, WireFormat.WireType.Varint, ints, static s => s.ReadInt64()); break;
                default: input.SkipLastField(); break;
            }
        }

        return new OnnxAttribute(name, i, f, text, [.. ints], [.. floats]);
    }

    private static OnnxTensor ReadTensor(CodedInputStream input, string path)
    {
        var (dims, floats) = (new List<long>(), new List<float>());
        string name = "";
        int dataType = 0;
        ByteString? raw = null;
        var external = false;
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, var wire): ReadRepeated(input, wire, WireFormat.WireType.Varint, dims, static s => s.ReadInt64()); break;
                case (2, WireFormat.WireType.Varint): dataType = input.ReadInt32(); break;
                case (4, WireFormat.WireType.LengthDelimited): floats.AddRange(LittleEndianFloats(input.ReadBytes(), name, path)); break; // packed
                case (4, var wire): ReadRepeated(input, wire, WireFormat.WireType.Fixed32, floats, static s => s.ReadFloat()); break;
                case (8, WireFormat.WireType.LengthDelimited): name = input.ReadString(); break;
                case (9, WireFormat.WireType.LengthDelimited): raw = input.ReadBytes(); break;
                case (14, WireFormat.WireType.Varint): external = input.ReadInt32() == 1; break;
                default: input.SkipLastField(); break;
            }
        }

        if (dataType != FloatType || external)
        {
            throw new InvalidDataFileException(path, $"initializer '{name}' is not float32 data stored in the file (data type {dataType}{(external ? ", external data" : "")})");
        }

        var data = raw is null ? [.. floats] : LittleEndianFloats(raw, name, path).ToArray();
        var count = dims.Aggregate(1L, static (product, d) => product * d);
        if (dims.Any(static d => d < 0) || count != data.Length)
        {
            throw new InvalidDataFileException(path, $"initializer '{name}' has {data.Length} values for shape [{string.Join(",", dims)}]");
        }

        return new OnnxTensor(name, [.. dims], data);
    }

    private static string ReadValueInfoName(CodedInputStream input)
    {
        var name = "";
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, WireFormat.WireType.LengthDelimited): name = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }

        return name;
    }

    private static (string Domain, long Version) ReadOpset(CodedInputStream input)
    {
        var (domain, version) = ("", 0L);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            switch (Field(tag))
            {
                case (1, WireFormat.WireType.LengthDelimited): domain = input.ReadString(); break;
                case (2, WireFormat.WireType.Varint): version = input.ReadInt64(); break;
                default: input.SkipLastField(); break;
            }
        }

        return (domain, version);
    }

    /// <summary>
    /// A repeated scalar field whose values have wire type <paramref name="scalar"/>: packed (one
    /// length-delimited run) or not (one value per tag); any other wire type is skipped.
    /// </summary>
    private static void ReadRepeated<T>(CodedInputStream input, WireFormat.WireType wire, WireFormat.WireType scalar, List<T> into, Func<CodedInputStream, T> read)
    {
        if (wire != WireFormat.WireType.LengthDelimited)
        {
            if (wire == scalar)
            {
                into.Add(read(input));
            }
            else
            {
                input.SkipLastField();
            }

            return;
        }

        var packed = input.ReadBytes().CreateCodedInput();
        while (!packed.IsAtEnd)
        {
            into.Add(read(packed));
        }
    }

    /// <summary>raw_data and packed float_data: little-endian float32, as this machine's floats are (checked).</summary>
    private static ReadOnlySpan<float> LittleEndianFloats(ByteString bytes, string name, string path) =>
        BitConverter.IsLittleEndian && bytes.Length % sizeof(float) == 0
            ? MemoryMarshal.Cast<byte, float>(bytes.Span)
            : throw new InvalidDataFileException(path, $"{(name.Length > 0 ? $"initializer '{name}'" : "an initializer")} has {bytes.Length} bytes of float data, not a whole number of little-endian float32 values");

    private static (int Number, WireFormat.WireType Wire) Field(uint tag) => (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag));
}
