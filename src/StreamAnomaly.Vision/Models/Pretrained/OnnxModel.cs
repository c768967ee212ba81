using StreamAnomaly.Core.Data;
using static StreamAnomaly.Vision.Models.Pretrained.ProtoReader;

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
/// straight from the protobuf wire format (<see cref="ProtoReader"/>: the file's bytes are read in
/// place, each weight copied once). Everything else is skipped. A file that is not such a model
/// fails with <see cref="InvalidDataFileException"/> naming it.
/// </summary>
internal static class OnnxModel
{
    private const int FloatType = 1; // TensorProto.DataType.FLOAT

    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataFileException">The file is not a readable ONNX model.</exception>
    public static OnnxGraph Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses model bytes; <paramref name="path"/> only names the source in errors.</summary>
    public static OnnxGraph Parse(ReadOnlySpan<byte> bytes, string path)
    {
        var model = new ProtoReader(bytes, path);
        (List<OnnxNode> Nodes, Dictionary<string, OnnxTensor> Initializers, List<string> Inputs, List<string> Outputs)? graph = null;
        string producer = "";
        long? opset = null, irVersion = null;
        while (model.Next())
        {
            switch (model.Field, model.WireType)
            {
                case (1, VarintType): irVersion = (long)model.Varint(); break;
                case (2, LengthDelimitedType): producer = model.Text(); break;
                case (7, LengthDelimitedType): graph = ReadGraph(new ProtoReader(model.Bytes(), path), path); break;
                case (8, LengthDelimitedType):
                    var (domain, version) = ReadOpset(new ProtoReader(model.Bytes(), path));
                    opset = domain is "" or "ai.onnx" ? version : opset;
                    break;
                default: model.Skip(); break;
            }
        }

        if (irVersion is null || graph is not { } g || g.Nodes.Count == 0)
        {
            throw new InvalidDataFileException(path, "not an ONNX model (no IR version or no graph with nodes)");
        }

        var inputs = g.Inputs.Where(name => !g.Initializers.ContainsKey(name)).ToList();
        return new OnnxGraph(path, producer, opset ?? 0, g.Nodes, g.Initializers, inputs, g.Outputs);
    }

    private static (List<OnnxNode>, Dictionary<string, OnnxTensor>, List<string>, List<string>) ReadGraph(ProtoReader graph, string path)
    {
        var (nodes, initializers, inputs, outputs) = (new List<OnnxNode>(), new Dictionary<string, OnnxTensor>(StringComparer.Ordinal), new List<string>(), new List<string>());
        while (graph.Next())
        {
            switch (graph.Field, graph.WireType)
            {
                case (1, LengthDelimitedType): nodes.Add(ReadNode(new ProtoReader(graph.Bytes(), path), path)); break;
                case (5, LengthDelimitedType):
                    var tensor = ReadTensor(new ProtoReader(graph.Bytes(), path), path);
                    if (!initializers.TryAdd(tensor.Name, tensor))
                    {
                        throw new InvalidDataFileException(path, $"initializer '{tensor.Name}' appears twice");
                    }

                    break;
                case (11, LengthDelimitedType): inputs.Add(ReadValueInfoName(new ProtoReader(graph.Bytes(), path))); break;
                case (12, LengthDelimitedType): outputs.Add(ReadValueInfoName(new ProtoReader(graph.Bytes(), path))); break;
                default: graph.Skip(); break;
            }
        }

        return (nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ReadNode(ProtoReader node, string path)
    {
        var (inputs, outputs, attributes) = (new List<string>(), new List<string>(), new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal));
        string name = "", opType = "";
        while (node.Next())
        {
            switch (node.Field, node.WireType)
            {
                case (1, LengthDelimitedType): inputs.Add(node.Text()); break;
                case (2, LengthDelimitedType): outputs.Add(node.Text()); break;
                case (3, LengthDelimitedType): name = node.Text(); break;
                case (4, LengthDelimitedType): opType = node.Text(); break;
                case (5, LengthDelimitedType):
                    var attribute = ReadAttribute(new ProtoReader(node.Bytes(), path), path);
                    attributes[attribute.Name] = attribute;
                    break;
                default: node.Skip(); break;
            }
        }

        return new OnnxNode(opType, name, [.. inputs], [.. outputs], attributes);
    }

    private static OnnxAttribute ReadAttribute(ProtoReader attribute, string path)
    {
        var (ints, floats) = (new List<long>(), new List<float>());
        string name = "";
        string? text = null;
        long? i = null;
        float? f = null;
        while (attribute.Next())
        {
            switch (attribute.Field, attribute.WireType)
            {
                case (1, LengthDelimitedType): name = attribute.Text(); break;
                case (2, Fixed32Type): f = attribute.Float(); break;
                case (3, VarintType): i = (long)attribute.Varint(); break;
                case (4, LengthDelimitedType): text = attribute.Text(); break;
                case (7, LengthDelimitedType): floats.AddRange(attribute.Floats()); break; // packed
                case (7, Fixed32Type): floats.Add(attribute.Float()); break;
                case (8, _): Int64s(ref attribute, ints, path); break;
                default: attribute.Skip(); break;
            }
        }

        return new OnnxAttribute(name, i, f, text, [.. ints], [.. floats]);
    }

    private static OnnxTensor ReadTensor(ProtoReader tensor, string path)
    {
        var dims = new List<long>();
        var pieces = new List<float[]>(); // float_data (packed runs or single values) or raw_data
        string name = "";
        int dataType = 0;
        var external = false;
        while (tensor.Next())
        {
            switch (tensor.Field, tensor.WireType)
            {
                case (1, _): Int64s(ref tensor, dims, path); break;
                case (2, VarintType): dataType = (int)tensor.Varint(); break;
                case (4, LengthDelimitedType): pieces.Add(tensor.Floats().ToArray()); break; // packed
                case (4, Fixed32Type): pieces.Add([tensor.Float()]); break;
                case (8, LengthDelimitedType): name = tensor.Text(); break;
                case (9, LengthDelimitedType): pieces.Add(tensor.Floats().ToArray()); break; // raw_data
                case (14, VarintType): external = tensor.Varint() == 1; break;
                default: tensor.Skip(); break;
            }
        }

        if (dataType != FloatType || external)
        {
            throw new InvalidDataFileException(path, $"initializer '{name}' is not float32 data stored in the file (data type {dataType}{(external ? ", external data" : "")})");
        }

        var data = pieces.Count == 1 ? pieces[0] : [.. pieces.SelectMany(static p => p)];
        var count = dims.Aggregate(1L, static (product, d) => product * d);
        if (dims.Any(static d => d < 0) || count != data.Length)
        {
            throw new InvalidDataFileException(path, $"initializer '{name}' has {data.Length} values for shape [{string.Join(",", dims)}]");
        }

        return new OnnxTensor(name, [.. dims], data);
    }

    private static string ReadValueInfoName(ProtoReader valueInfo)
    {
        var name = "";
        while (valueInfo.Next())
        {
            switch (valueInfo.Field, valueInfo.WireType)
            {
                case (1, LengthDelimitedType): name = valueInfo.Text(); break;
                default: valueInfo.Skip(); break;
            }
        }

        return name;
    }

    private static (string Domain, long Version) ReadOpset(ProtoReader opset)
    {
        var (domain, version) = ("", 0L);
        while (opset.Next())
        {
            switch (opset.Field, opset.WireType)
            {
                case (1, LengthDelimitedType): domain = opset.Text(); break;
                case (2, VarintType): version = (long)opset.Varint(); break;
                default: opset.Skip(); break;
            }
        }

        return (domain, version);
    }

    /// <summary>A repeated int64 field, packed (one length-delimited run) or one value per tag.</summary>
    private static void Int64s(ref ProtoReader field, List<long> into, string path)
    {
        if (field.WireType == LengthDelimitedType)
        {
            var packed = new ProtoReader(field.Bytes(), path);
            while (packed.HasMore)
            {
                into.Add((long)packed.Varint());
            }
        }
        else if (field.WireType == VarintType)
        {
            into.Add((long)field.Varint());
        }
        else
        {
            field.Skip();
        }
    }
}
