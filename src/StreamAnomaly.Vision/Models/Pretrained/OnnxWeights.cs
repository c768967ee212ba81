using StreamAnomaly.Core.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Models.Pretrained;

/// <summary>
/// Copies the initializers that a <see cref="ResNet18Graph"/> locates into a module's parameters
/// and buffers by state-dict key, checking every shape and every convolution and pooling
/// attribute against the module, and that each initializer is used exactly once.
/// </summary>
internal static class OnnxWeights
{
    /// <summary>The ONNX default of BatchNormalization's epsilon, used when the attribute is absent.</summary>
    private const float DefaultEpsilon = 1e-5f;

    /// <returns>For each state-dict key filled, the initializer it came from.</returns>
    /// <exception cref="InvalidDataFileException">A shape or attribute does not fit; the message names the initializer or node.</exception>
    public static List<(string Key, string Initializer)> Copy(OnnxGraph graph, ResNet18Graph layout, nn.Module module)
    {
        var state = module.state_dict();
        var modules = module.named_modules().ToDictionary(static m => m.name, static m => m.module, StringComparer.Ordinal);
        var sources = new List<(string Key, string Initializer)>();
        var used = new HashSet<string>(StringComparer.Ordinal);

        void Load(OnnxNode node, int input, string key)
        {
            var name = input < node.Inputs.Length ? node.Inputs[input] : "";
            if (!graph.Initializers.TryGetValue(name, out var initializer))
            {
                throw new InvalidDataFileException(graph.Path, $"{node.OpType} '{node.Name}' has no initializer as input {input}, which {key} needs");
            }

            if (!used.Add(name))
            {
                throw new InvalidDataFileException(graph.Path, $"initializer '{name}' is read twice (the second time for {key})");
            }

            var target = state[key];
            CheckShape(graph.Path, name, initializer.Dims, key, target.shape);
            using var source = tensor(initializer.Data, initializer.Dims);
            target.copy_(source);
            sources.Add((key, name));
        }

        using (no_grad())
        {
            foreach (var (key, node) in layout.Convs)
            {
                CheckConv(graph.Path, node, key, (Conv2d)modules[key]);
                Load(node, 1, $"{key}.weight");
            }

            foreach (var (key, node) in layout.Norms)
            {
                if (node.Attributes.GetValueOrDefault("spatial")?.Int is { } spatial && spatial != 1)
                {
                    throw new InvalidDataFileException(graph.Path, $"BatchNormalization '{node.Name}' ({key}) is not spatial");
                }

                Load(node, 1, $"{key}.weight");
                Load(node, 2, $"{key}.bias");
                Load(node, 3, $"{key}.running_mean");
                Load(node, 4, $"{key}.running_var");
                ((BatchNorm2d)modules[key]).eps = node.Attributes.GetValueOrDefault("epsilon")?.Float ?? DefaultEpsilon;
            }
        }

        CheckWindow(graph.Path, layout.MaxPool, "the stem's max pool", kernel: [3, 3], stride: [2, 2], padding: [1, 1]);
        CheckWindow(graph.Path, layout.AveragePool, "the final average pool", kernel: [7, 7], stride: [1, 1], padding: [0, 0]);

        var unused = graph.Initializers.Keys.Where(name => !used.Contains(name)).ToList();
        if (unused.Count > 0)
        {
            throw new InvalidDataFileException(graph.Path, $"{unused.Count} initializers are not part of the network: {string.Join(", ", unused.Take(6))}");
        }

        var missed = state.Keys.Where(key => !key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) && !sources.Exists(s => s.Key == key)).ToList();
        return missed.Count == 0
            ? sources
            : throw new InvalidOperationException($"the graph walk left {string.Join(", ", missed)} without weights");
    }

    /// <summary>Throws unless the initializer's <paramref name="dims"/> equal the module's <paramref name="shape"/> for <paramref name="key"/>.</summary>
    internal static void CheckShape(string path, string initializer, long[] dims, string key, long[] shape)
    {
        if (!dims.SequenceEqual(shape))
        {
            throw new InvalidDataFileException(path, $"initializer '{initializer}' has shape [{string.Join(", ", dims)}] but {key} needs [{string.Join(", ", shape)}]");
        }
    }

    /// <summary>
    /// ONNX pads (all begins, then all ends) against a module's symmetric <paramref name="padding"/>:
    /// equal, or CNTK's "same" padding, whose end pad is one less under stride 2. That extra row or
    /// column of symmetric padding is never read when the side is even (the last window of an odd
    /// kernel then ends one short of it), so both give the same output there.
    /// </summary>
    internal static bool PadsFit(long[] pads, long[] padding, long[] stride) =>
        pads.Length == 2 * padding.Length
        && padding.Select((p, i) => pads[i] == p && (pads[i + padding.Length] == p || (stride[i] == 2 && pads[i + padding.Length] == p - 1))).All(static ok => ok);

    private static void CheckConv(string path, OnnxNode node, string key, Conv2d conv)
    {
        var padding = conv.padding ?? throw new InvalidOperationException($"{key} has no explicit padding");
        var problems = new List<string>();
        if (node.Inputs.Length > 2 && node.Inputs[2].Length > 0)
        {
            problems.Add("a bias (ResNet-18's convolutions have none)");
        }

        Expect(problems, "kernel_shape", node.Ints("kernel_shape") ?? conv.kernel_size, conv.kernel_size);
        Expect(problems, "strides", node.Ints("strides") ?? [1, 1], conv.stride);
        Expect(problems, "dilations", node.Ints("dilations") ?? [1, 1], conv.dilation);
        Expect(problems, "group", [node.Attributes.GetValueOrDefault("group")?.Int ?? 1], [conv.groups]);
        CheckPads(problems, node, padding, conv.stride);
        if (problems.Count > 0)
        {
            throw new InvalidDataFileException(path, $"Conv '{node.Name}' (for {key}) has {string.Join("; ", problems)}");
        }
    }

    private static void CheckWindow(string path, OnnxNode node, string what, long[] kernel, long[] stride, long[] padding)
    {
        var problems = new List<string>();
        Expect(problems, "kernel_shape", node.Ints("kernel_shape") ?? [], kernel);
        Expect(problems, "strides", node.Ints("strides") ?? [1, 1], stride);
        CheckPads(problems, node, padding, stride);
        if (problems.Count > 0)
        {
            throw new InvalidDataFileException(path, $"{node.OpType} '{node.Name}' ({what}) has {string.Join("; ", problems)}");
        }
    }

    private static void CheckPads(List<string> problems, OnnxNode node, long[] padding, long[] stride)
    {
        var pads = node.Ints("pads") ?? new long[2 * padding.Length];
        if (node.Attributes.GetValueOrDefault("auto_pad")?.Text is { } autoPad && autoPad != "NOTSET")
        {
            problems.Add($"auto_pad {autoPad} where explicit pads are expected");
        }
        else if (!PadsFit(pads, padding, stride))
        {
            problems.Add($"pads [{string.Join(", ", pads)}] where the module pads [{string.Join(", ", padding)}] on each side");
        }
    }

    private static void Expect(List<string> problems, string attribute, long[] actual, long[] expected)
    {
        if (!actual.SequenceEqual(expected))
        {
            problems.Add($"{attribute} [{string.Join(", ", actual)}] where the module has [{string.Join(", ", expected)}]");
        }
    }
}
