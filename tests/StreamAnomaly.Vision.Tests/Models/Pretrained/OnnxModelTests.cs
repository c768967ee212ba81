using Google.Protobuf;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Vision.Models.Pretrained;

namespace StreamAnomaly.Vision.Tests.Models.Pretrained;

/// <summary>The hand-written ONNX reader: both encodings of every repeated field it reads, and bad files.</summary>
public sealed class OnnxModelTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("onnx-reader-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void A_hand_built_model_reads_back_with_packed_and_unpacked_fields_raw_and_float_data()
    {
        float[] weight = [1.5f, -2f, 3.25f, 0f, 1e-3f, -7f];
        var model = Protobuf.Message(m =>
        {
            m.Varint(1, 8);
            m.Text(2, "hand");
            m.Bytes(7, Protobuf.Message(g =>
            {
                g.Bytes(1, Protobuf.Message(n =>
                {
                    n.Text(1, "x");
                    n.Text(1, "W");
                    n.Text(1, "B");
                    n.Text(2, "y");
                    n.Text(3, "conv");
                    n.Text(4, "Conv");
                    n.Bytes(5, Protobuf.Message(a =>
                    {
                        a.Text(1, "pads");
                        a.Bytes(8, Protobuf.Message(p => { p.WriteInt64(1); p.WriteInt64(1); p.WriteInt64(0); p.WriteInt64(0); }));
                    }));
                    n.Bytes(5, Protobuf.Message(a =>
                    {
                        a.Text(1, "strides");
                        a.Varint(8, 2);
                        a.Varint(8, 2);
                    }));
                    n.Bytes(5, Protobuf.Message(a => { a.Text(1, "group"); a.Varint(3, 1); }));
                    n.Bytes(5, Protobuf.Message(a => { a.Text(1, "auto_pad"); a.Bytes(4, "NOTSET"u8.ToArray()); }));
                    n.Bytes(5, Protobuf.Message(a =>
                    {
                        a.Text(1, "epsilon");
                        a.WriteTag(2, WireFormat.WireType.Fixed32);
                        a.WriteFloat(1e-5f);
                    }));
                }));
                g.Text(2, "tiny");
                g.Bytes(5, Protobuf.Message(t =>
                {
                    t.Varint(1, 2);
                    t.Varint(1, 1);
                    t.Varint(1, 3);
                    t.Varint(2, 1);
                    t.Text(8, "W");
                    t.Bytes(9, [.. weight.SelectMany(BitConverter.GetBytes)]);
                }));
                g.Bytes(5, Protobuf.Message(t =>
                {
                    t.Bytes(1, Protobuf.Message(d => d.WriteInt64(2)));
                    t.Varint(2, 1);
                    t.Bytes(4, Protobuf.Message(f => { f.WriteFloat(0.5f); f.WriteFloat(-0.5f); }));
                    t.Text(8, "B");
                }));
                g.Bytes(11, Protobuf.FloatValue("x"));
                g.Bytes(11, Protobuf.FloatValue("W"));
                g.Bytes(12, Protobuf.FloatValue("y"));
            }));
            m.Bytes(8, Protobuf.Message(o => { o.Text(1, ""); o.Varint(2, 8); }));
            m.Bytes(14, Protobuf.Message(p => p.Text(1, "skipped")));
        });

        var graph = OnnxModel.Parse(model, "tiny.onnx");

        Assert.Equal(("hand", 8L), (graph.Producer, graph.OpsetVersion));
        Assert.Equal(["x"], graph.Inputs);
        Assert.Equal(["y"], graph.Outputs);
        var conv = Assert.Single(graph.Nodes);
        Assert.Equal(("Conv", "conv"), (conv.OpType, conv.Name));
        Assert.Equal(["x", "W", "B"], conv.Inputs);
        Assert.Equal([1L, 1, 0, 0], conv.Ints("pads")!);
        Assert.Equal([2L, 2], conv.Ints("strides")!);
        Assert.Equal(1, conv.Attributes["group"].Int);
        Assert.Equal("NOTSET", conv.Attributes["auto_pad"].Text);
        Assert.Equal(1e-5f, conv.Attributes["epsilon"].Float);
        Assert.Equal([2L, 1, 3], graph.Initializers["W"].Dims);
        Assert.Equal(weight, graph.Initializers["W"].Data);
        Assert.Equal([2L], graph.Initializers["B"].Dims);
        Assert.Equal([0.5f, -0.5f], graph.Initializers["B"].Data);
    }

    [Fact]
    public void An_initializer_whose_data_does_not_fill_its_shape_is_refused_by_name()
    {
        var model = Protobuf.Message(m =>
        {
            m.Varint(1, 3);
            m.Bytes(7, Protobuf.Message(g =>
            {
                g.Bytes(1, Protobuf.Message(n => n.Text(4, "Relu")));
                g.Bytes(5, Protobuf.Message(t =>
                {
                    t.Bytes(1, Protobuf.Message(d => { d.WriteInt64(2); d.WriteInt64(2); }));
                    t.Varint(2, 1);
                    t.Text(8, "Parameter7");
                    t.Bytes(9, new byte[12]);
                }));
            }));
        });

        var error = Assert.Throws<InvalidDataFileException>(() => OnnxModel.Parse(model, "short.onnx"));

        Assert.Equal("short.onnx", error.Path);
        Assert.Contains("'Parameter7' has 3 values for shape [2,2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_text_file_is_not_an_onnx_model_and_the_message_names_it()
    {
        var path = Path.Combine(folder, "ResNet18.onnx");
        File.WriteAllText(path, "<html>404: this is not the model you are looking for</html>\n");

        var error = Assert.Throws<InvalidDataFileException>(() => PretrainedResNet18.Load(path, PretrainedFixture.PreprocessPath));

        Assert.Equal(path, error.Path);
        Assert.StartsWith($"{path}: not an ONNX model", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PretrainedResNet18.ModelFileName, 5_000_000)]
    [InlineData(PretrainedResNet18.PreprocessFileName, 300_000)]
    public void A_truncated_file_fails_with_a_message_naming_it_not_a_raw_protobuf_exception(string name, int length)
    {
        var path = Path.Combine(folder, name);
        var source = Path.Combine(PretrainedResNet18.DefaultDirectory, name);
        File.WriteAllBytes(path, File.ReadAllBytes(source)[..length]);

        var error = Assert.Throws<InvalidDataFileException>(() => OnnxModel.Read(path));

        Assert.Equal(path, error.Path);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_names_its_path_and_the_package_that_provides_it()
    {
        var error = Assert.Throws<FileNotFoundException>(() => PretrainedResNet18.Load(folder));

        var expected = Path.Combine(folder, PretrainedResNet18.PreprocessFileName);
        Assert.Equal(expected, error.FileName);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_network_file_is_named_too()
    {
        var model = Path.Combine(folder, PretrainedResNet18.ModelFileName);

        var error = Assert.Throws<FileNotFoundException>(() => PretrainedResNet18.Load(model, PretrainedFixture.PreprocessPath));

        Assert.Equal(model, error.FileName);
        Assert.Contains(PretrainedResNet18.PackageId, error.Message, StringComparison.Ordinal);
    }
}
