using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Imaging;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Models.Pretrained;

/// <summary>
/// The pretrained ResNet-18's input normalisation, read from <c>ResNetPreprocess.onnx</c>. That
/// graph takes RGB planes of 0-255 values (ML.NET's pixel order; it names its planes RInp, GInp,
/// BInp), reorders them (Split, then Concat: to BGR in the shipped file) and subtracts a per-pixel
/// mean image [3, 224, 224]; it neither rescales nor divides by a standard deviation.
/// </summary>
/// <remarks>
/// <see cref="Apply"/> takes the project's BGR order (<see cref="Frame"/>) and maps it onto the
/// order the graph produces (the identity for the shipped file). At the mean image's size the mean
/// is subtracted pixel by pixel, exactly as the graph does; at any other size, where the graph
/// would not run, each channel's average of the mean image is subtracted instead
/// (<see cref="ChannelMeans"/>: about B 103.06, G 115.90, R 123.15 for the shipped file).
/// Holds no tensors: nothing to dispose.
/// </remarks>
public sealed class ResNetPreprocessing
{
    /// <summary>The mean image in the network's channel order, [3, height, width] row-major.</summary>
    private readonly float[] meanImage;
    private readonly float[] channelMeans;

    /// <summary>Network channel k is input (BGR) channel <c>sourceChannels[k]</c>.</summary>
    private readonly long[] sourceChannels;

    private ResNetPreprocessing(float[] meanImage, int height, int width, long[] sourceChannels)
    {
        this.meanImage = meanImage;
        this.sourceChannels = sourceChannels;
        (MeanImageHeight, MeanImageWidth) = (height, width);
        var plane = height * width;
        channelMeans = [.. Enumerable.Range(0, 3).Select(c => Average(meanImage.AsSpan(c * plane, plane)))];
        NetworkOrder = string.Concat(sourceChannels.Select(static c => "BGR"[(int)c]));
    }

    /// <summary>Height in pixels of the per-pixel mean image (224 for the shipped file).</summary>
    public int MeanImageHeight { get; }

    /// <summary>Width in pixels of the per-pixel mean image (224 for the shipped file).</summary>
    public int MeanImageWidth { get; }

    /// <summary>The network's channel order, as read from the graph ("BGR" for the shipped file).</summary>
    public string NetworkOrder { get; }

    /// <summary>Each channel's average of the mean image, in <see cref="NetworkOrder"/>, in 0-255 pixel units.</summary>
    public IReadOnlyList<float> ChannelMeans => channelMeans;

    /// <summary>Reads the preprocessing graph at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataFileException">Not ONNX, or not the Split-Concat-Sub graph described above.</exception>
    public static ResNetPreprocessing Load(string path) => FromGraph(PretrainedResNet18.ReadOnnx(path));

    /// <summary>
    /// BGR images [N, 3, H, W] of 0-255 values (uint8 or float) to the network's float32 input
    /// [N, 3, H, W] on the same device.
    /// </summary>
    public Tensor Apply(Tensor bgr)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        if (bgr.dim() != 4 || bgr.shape[1] != 3)
        {
            throw new ArgumentException($"expected BGR images [N, 3, H, W], got [{string.Join(", ", bgr.shape)}]", nameof(bgr));
        }

        using var scope = NewDisposeScope();
        var x = bgr.to_type(ScalarType.Float32);
        if (NetworkOrder != "BGR")
        {
            x = x.index_select(1, tensor(sourceChannels, device: x.device));
        }

        var (height, width) = (x.shape[2], x.shape[3]);
        var mean = height == MeanImageHeight && width == MeanImageWidth
            ? tensor(meanImage, [1, 3, height, width], device: x.device)
            : tensor(channelMeans, [1, 3, 1, 1], device: x.device);
        return x.sub(mean).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Frames resized to <paramref name="width"/> x <paramref name="height"/> (area interpolation,
    /// <see cref="FrameTensors.ResizeBgr"/>) to the network's input [N, 3, height, width] on <paramref name="device"/> (CPU by default).
    /// </summary>
    public Tensor FromFrames(IReadOnlyList<Frame> frames, int width, int height, Device? device = null)
    {
        using var scope = NewDisposeScope();
        return Apply(FrameTensors.ToByteTensor(frames, width, height).to(device ?? CPU)).MoveToOuterDisposeScope();
    }

    private static float Average(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += value;
        }

        return (float)(sum / values.Length);
    }

    /// <summary>Reads the graph: Split(input, axis 1) into 3 planes, Concat(axis 1) of a permutation, Sub(that, mean image).</summary>
    internal static ResNetPreprocessing FromGraph(OnnxGraph graph)
    {
        InvalidDataFileException Unexpected(string what) =>
            new(graph.Path, $"not the pretrained ResNet-18's preprocessing graph (Split, Concat, Sub of a mean image): {what}");

        if (graph.Nodes.Count != 3 || graph.Nodes[0] is not { OpType: "Split" } split || graph.Nodes[1] is not { OpType: "Concat" } concat || graph.Nodes[2] is not { OpType: "Sub" } sub)
        {
            throw Unexpected($"its nodes are {string.Join(", ", graph.Nodes.Select(static n => n.OpType))}");
        }

        if (graph.Inputs.Count != 1 || split.Inputs is not [var input] || input != graph.Inputs[0] || split.Outputs.Length != 3
            || split.Attributes.GetValueOrDefault("axis")?.Int != 1 || split.Ints("split") is { } parts && parts.Any(static p => p != 1))
        {
            throw Unexpected("the Split does not cut the graph's input into its 3 channel planes");
        }

        var order = concat.Inputs.Select(name => Array.IndexOf(split.Outputs, name)).ToArray();
        if (concat.Attributes.GetValueOrDefault("axis")?.Int != 1 || order.Length != 3 || order.Distinct().Count() != 3 || order.Contains(-1))
        {
            throw Unexpected("the Concat does not join the 3 planes along the channel axis");
        }

        if (sub.Inputs is not [var minuend, var meanName] || minuend != concat.Outputs[0] || sub.Outputs[0] != graph.Outputs.FirstOrDefault()
            || !graph.Initializers.TryGetValue(meanName, out var mean) || mean.Dims is not ([1, 3, _, _] or [3, _, _]))
        {
            throw Unexpected("the Sub does not subtract a [1, 3, H, W] mean image from the reordered planes");
        }

        // The graph's input is RGB: its channel c is BGR channel 2 - c.
        return new ResNetPreprocessing(mean.Data, (int)mean.Dims[^2], (int)mean.Dims[^1], [.. order.Select(static c => 2L - c)]);
    }
}
