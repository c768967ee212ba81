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
        var model = ProtoWriter.Message(m => m
            .Varint(1, 8)
            .Text(2, "hand")
            .Message(7, g => g
                .Message(1, n => n
                    .Text(1, "x").Text(1, "W").Text(1, "B")
                    .Text(2, "y")
                    .Text(3, "conv")
                    .Text(4, "Conv")
                    .Message(5, a => a.Text(1, "pads").PackedVarints(8, 1, 1, 0, 0))
                    .Message(5, a => a.Text(1, "strides").Varint(8, 2).Varint(8, 2))
                    .Message(5, a => a.Text(1, "group").Varint(3, 1))
                    .Message(5, a => a.Text(1, "auto_pad").Text(4, "NOTSET"))
                    .Message(5, a => a.Text(1, "epsilon").Float(2, 1e-5f))
                    .Message(5, a => a.Text(1, "alpha").PackedFloats(7, 0.25f, 4f)))
                .Text(2, "tiny")
                .Message(5, t => t
                    .Varint(1, 2).Varint(1, 1).Varint(1, 3)
                    .Varint(2, 1)
                    .Text(8, "W")
                    .Bytes(9, [.. weight.SelectMany(BitConverter.GetBytes)]))
                .Message(5, t => t
                    .PackedVarints(1, 2)
                    .Varint(2, 1)
                    .PackedFloats(4, 0.5f, -0.5f)
                    .Text(8, "B"))
                .Bytes(11, ProtoWriter.FloatValue("x"))
                .Bytes(11, ProtoWriter.FloatValue("W"))
                .Bytes(12, ProtoWriter.FloatValue("y")))
            .Message(8, o => o.Text(1, "").Varint(2, 8))
            .Message(14, p => p.Text(1, "skipped")));

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
        Assert.Equal([0.25f, 4f], conv.Attributes["alpha"].Floats);
        Assert.Equal([2L, 1, 3], graph.Initializers["W"].Dims);
        Assert.Equal(weight, graph.Initializers["W"].Data);
        Assert.Equal([2L], graph.Initializers["B"].Dims);
        Assert.Equal([0.5f, -0.5f], graph.Initializers["B"].Data);
    }

    [Fact]
    public void An_initializer_whose_data_does_not_fill_its_shape_is_refused_by_name()
    {
        var model = ProtoWriter.Message(m => m
            .Varint(1, 3)
            .Message(7, g => g
                .Message(1, n => n.Text(4, "Relu"))
                .Message(5, t => t.PackedVarints(1, 2, 2).Varint(2, 1).Text(8, "Parameter7").Bytes(9, new byte[12]))));

        var error = Assert.Throws<InvalidDataFileException>(() => OnnxModel.Parse(model, "short.onnx"));

        Assert.Equal("short.onnx", error.Path);
        Assert.Contains("'Parameter7' has 3 values for shape [2,2]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x0a, 0x05, 0x61 }, "a field of 5 bytes where 1 are left")]
    [InlineData(new byte[] { 0x08, 0xff, 0xff }, "the data ends inside a field")] // an unfinished varint
    [InlineData(new byte[] { 0x0b, 0x00 }, "wire type 3")] // a group (protobuf 2), never in ONNX
    [InlineData(new byte[] { 0x00 }, "field number 0")]
    public void Broken_wire_format_is_named_not_thrown_raw(byte[] bytes, string problem)
    {
        var error = Assert.Throws<InvalidDataFileException>(() => OnnxModel.Parse(bytes, "broken.onnx"));

        Assert.Equal("broken.onnx: not an ONNX model, or truncated (protobuf wire format: " + problem + ")", error.Message);
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
