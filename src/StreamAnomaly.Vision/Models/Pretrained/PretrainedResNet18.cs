using StreamAnomaly.Core.Data;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Models.Pretrained;

/// <summary>The feature maps <see cref="PretrainedResNet18.Features"/> can return.</summary>
public enum PretrainedStage
{
    /// <summary>End of layer1: 64 channels at 1/4 of the input side (56x56 at 224 px).</summary>
    Layer1,

    /// <summary>End of layer2: 128 channels at 1/8 of the input side (28x28 at 224 px).</summary>
    Layer2,

    /// <summary>End of layer3: 256 channels at 1/16 of the input side (14x14 at 224 px).</summary>
    Layer3,

    /// <summary>End of layer4: 512 channels at 1/32 of the input side (7x7 at 224 px).</summary>
    Layer4,

    /// <summary>Layer4 averaged over its whole map: [N, 512].</summary>
    Pooled,
}

/// <summary>
/// ImageNet "ResNet-18" (no classifier), a frozen feature extractor whose weights come from
/// <c>ResNet18.onnx</c> of the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (MIT;
/// a CNTK 2.6 export). Fields are named as torchvision's state-dict keys (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1</c>..<c>layer4</c> of <see cref="BasicBlock"/>s). Note that CNTK's network has 3 blocks
/// in layer4 where torchvision's ResNet-18 has 2 (<see cref="BlocksPerLayer"/>: 22 convolutions,
/// 15.9 M parameters); the module takes the block counts from the graph. Eval mode only: batch
/// norm uses the file's running statistics and epsilon, and no gradient is recorded.
/// </summary>
/// <remarks>
/// Input: [N, 3, H, W] float32 made by <see cref="Preprocessing"/> (BGR, 0-255 minus the mean
/// image). The file's stride-2 convolutions and max pool pad one pixel less at the bottom and right
/// than at the top and left (CNTK's "same" padding); this module pads symmetrically, like
/// torchvision. The extra row and column are never read when every stride-2 layer sees an even
/// side, that is when H and W are multiples of 32 (224, 128, ...): there the outputs equal the
/// ONNX graph's (the tests compare with ONNX Runtime at 224 px). The graph's pooled output
/// (<c>Pooling395_Output_0</c>) is an AveragePool 7x7 over layer4's 7x7 map at 224 px;
/// <see cref="PretrainedStage.Pooled"/> is the mean over the whole map, the same there and
/// defined at every size.
/// </remarks>
public sealed class PretrainedResNet18 : Module<Tensor, Tensor>
{
    /// <summary>The NuGet package the ONNX files come from.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>File name of the network.</summary>
    public const string ModelFileName = "ResNet18.onnx";

    /// <summary>File name of the input normalisation.</summary>
    public const string PreprocessFileName = "ResNetPreprocess.onnx";

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    private PretrainedResNet18(IReadOnlyList<int> blocksPerLayer, ResNetPreprocessing preprocessing) : base("resnet18")
    {
        Preprocessing = preprocessing;
        BlocksPerLayer = [.. blocksPerLayer];
        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        layer1 = Layer(64, 64, 1, blocksPerLayer[0]);
        layer2 = Layer(64, 128, 2, blocksPerLayer[1]);
        layer3 = Layer(128, 256, 2, blocksPerLayer[2]);
        layer4 = Layer(256, 512, 2, blocksPerLayer[3]);
        RegisterComponents();
    }

    /// <summary>Where the build puts the ONNX files: <c>models/resnet18/</c> next to the application.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "models", "resnet18");

    /// <summary>Basic blocks in layer1..layer4, as read from the graph: 2, 2, 2, 3 for the shipped file.</summary>
    public IReadOnlyList<int> BlocksPerLayer { get; }

    /// <summary>The input normalisation read from <see cref="PreprocessFileName"/>.</summary>
    public ResNetPreprocessing Preprocessing { get; }

    /// <summary>For each state-dict key, the ONNX initializer it was loaded from (every key except <c>num_batches_tracked</c>).</summary>
    internal IReadOnlyList<(string Key, string Initializer)> Sources { get; private set; } = [];

    /// <summary>The graph's value names at the end of layer1..layer4, as found by the walk.</summary>
    internal IReadOnlyList<string> StageOutputs { get; private set; } = [];

    /// <summary>Channels of a stage's feature map (64, 128, 256, 512; 512 for <see cref="PretrainedStage.Pooled"/>).</summary>
    public static long Channels(PretrainedStage stage) => stage switch
    {
        PretrainedStage.Layer1 => 64,
        PretrainedStage.Layer2 => 128,
        PretrainedStage.Layer3 => 256,
        _ => 512,
    };

    /// <summary>
    /// Loads both ONNX files from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>).
    /// Takes about a second: load once and share.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and the package.</exception>
    /// <exception cref="InvalidDataFileException">A file is not ONNX, is truncated, or does not fit ResNet-18.</exception>
    public static PretrainedResNet18 Load(string? directory = null)
    {
        directory ??= DefaultDirectory;
        return Load(Path.Combine(directory, ModelFileName), Path.Combine(directory, PreprocessFileName));
    }

    /// <summary>Loads the network from <paramref name="modelPath"/> and its normalisation from <paramref name="preprocessPath"/>.</summary>
    /// <inheritdoc cref="Load(string?)" path="/exception"/>
    public static PretrainedResNet18 Load(string modelPath, string preprocessPath)
    {
        var preprocessing = ResNetPreprocessing.Load(preprocessPath);
        return FromGraph(ReadOnnx(modelPath), preprocessing);
    }

    /// <summary>The pooled 512-d features [N, 512] of a preprocessed batch.</summary>
    public override Tensor forward(Tensor input) => Features(input, PretrainedStage.Pooled)[0];

    /// <summary>
    /// The requested feature maps of a preprocessed batch [N, 3, H, W], in the order asked
    /// (maps [N, C, H/s, W/s]; <see cref="PretrainedStage.Pooled"/> [N, 512]). Runs only as deep as
    /// the deepest stage asked for. The caller owns (disposes) the returned tensors. A single frame
    /// goes through as a pair of copies: for one small frame (128 px) libtorch's CPU convolution
    /// probes NNPACK, which this CPU lacks, and prints a warning on every call (thousands in a demo
    /// that scores each camera's new frame alone).
    /// </summary>
    public Tensor[] Features(Tensor input, params PretrainedStage[] stages)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Length == 0 || stages.Distinct().Count() != stages.Length || stages.Any(static s => !Enum.IsDefined(s)))
        {
            throw new ArgumentException("ask for one or more distinct stages", nameof(stages));
        }

        if (training)
        {
            throw new InvalidOperationException("the pretrained ResNet-18 is a frozen feature extractor: keep it in eval mode");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var deepest = (int)stages.Max();
        var outputs = new Tensor[5];
        var single = input.shape[0] == 1;
        var x = functional.relu(bn1.call(conv1.call(single ? input.expand(2, -1, -1, -1) : input)));
        x = functional.max_pool2d(x, kernel_size: 3, stride: 2, padding: 1);
        Sequential[] layers = [layer1, layer2, layer3, layer4];
        for (var l = 0; l < layers.Length && l <= deepest; l++)
        {
            x = outputs[l] = layers[l].call(x);
        }

        if (deepest == (int)PretrainedStage.Pooled)
        {
            outputs[4] = x.mean([2L, 3L]);
        }

        return [.. stages.Select(s => (single ? outputs[(int)s].narrow(0, 0, 1) : outputs[(int)s]).MoveToOuterDisposeScope())];
    }

    /// <summary>torchvision's <c>_make_layer</c>: the first block may stride and project, the rest keep the shape.</summary>
    private static Sequential Layer(long inPlanes, long planes, long stride, int blocks) =>
        Sequential(Enumerable.Range(0, blocks).Select(b => ($"{b}", (Module<Tensor, Tensor>)(b == 0 ? new BasicBlock(inPlanes, planes, stride) : new BasicBlock(planes, planes)))));

    /// <summary>Reads an ONNX file of the package, with a message naming the package when it is missing.</summary>
    internal static OnnxGraph ReadOnnx(string path) => File.Exists(path)
        ? OnnxModel.Read(path)
        : throw new FileNotFoundException(
            $"{path}: not found. The pretrained ResNet-18 files come from the NuGet package {PackageId}, which the build of "
            + $"StreamAnomaly.Vision copies to models/resnet18/ next to the application: restore and build again, or give the path of a copy.",
            path);

    /// <summary>Builds the module from a ResNet-18 graph, checking every shape and attribute.</summary>
    /// <exception cref="InvalidDataFileException">The graph does not fit, naming the initializer or node.</exception>
    internal static PretrainedResNet18 FromGraph(OnnxGraph graph, ResNetPreprocessing preprocessing)
    {
        var layout = ResNet18Graph.Walk(graph);
        var module = new PretrainedResNet18(layout.BlocksPerLayer, preprocessing);
        try
        {
            module.Sources = OnnxWeights.Copy(graph, layout, module);
            module.StageOutputs = layout.StageOutputs;
            foreach (var parameter in module.parameters())
            {
                parameter.requires_grad = false;
            }

            module.eval();
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            layer4.Dispose();
        }

        base.Dispose(disposing);
    }
}
