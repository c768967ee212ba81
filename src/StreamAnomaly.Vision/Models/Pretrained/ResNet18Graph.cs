using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Vision.Models.Pretrained;

/// <summary>
/// Which ONNX node holds the weights of each module of a torchvision-style ResNet of basic blocks
/// (keys such as <c>conv1</c>, <c>layer2.0.bn1</c>, <c>layer2.0.downsample.0</c>), and how many
/// blocks each layer has, found by walking the graph's structure from its input; initializer names
/// (CNTK's <c>ParameterNN</c>) play no part, and node order does not either (CNTK writes a block's
/// shortcut before its main path).
/// </summary>
/// <remarks>
/// Expected structure: Conv-BatchNormalization-Relu-MaxPool; then blocks
/// Conv-BN-Relu-Conv-BN-Add-Relu whose Add's other input is the block input, or Conv-BN of it (a
/// projection shortcut, which starts each of layers 2-4); then AveragePool. Every node must be part
/// of it. The shipped file has 2, 2, 2 and 3 blocks (torchvision's ResNet-18 has 2 in layer4).
/// </remarks>
internal sealed record ResNet18Graph(
    IReadOnlyList<int> BlocksPerLayer,
    IReadOnlyList<(string Key, OnnxNode Node)> Convs,
    IReadOnlyList<(string Key, OnnxNode Node)> Norms,
    OnnxNode MaxPool,
    OnnxNode AveragePool,
    IReadOnlyList<string> StageOutputs)
{
    /// <exception cref="InvalidDataFileException">The graph is not a ResNet of that structure.</exception>
    public static ResNet18Graph Walk(OnnxGraph graph)
    {
        var readers = graph.Nodes.SelectMany(n => n.Inputs.Select(value => (value, n))).ToLookup(p => p.value, p => p.n, StringComparer.Ordinal);
        var visited = new HashSet<OnnxNode>(ReferenceEqualityComparer.Instance);
        var (convs, norms, stages) = (new List<(string, OnnxNode)>(), new List<(string, OnnxNode)>(), new List<string>());

        InvalidDataFileException Unexpected(string what) => new(graph.Path, $"not the ResNet graph this loader knows: {what}");

        OnnxNode Visit(OnnxNode node) => visited.Add(node) ? node : throw Unexpected($"node '{node.Name}' is reached twice");

        // The one node that reads `value`, which must be of type `opType`.
        OnnxNode Next(string value, string opType) => readers[value].ToList() is [var node] && node.OpType == opType
            ? Visit(node)
            : throw Unexpected($"'{value}' should feed one {opType} node, but feeds {Describe(readers[value])}");

        // Conv-BN from the (visited) `conv`; returns the BN's output.
        string ConvNorm(OnnxNode conv, string convKey, string normKey)
        {
            convs.Add((convKey, conv));
            var norm = Next(conv.Outputs[0], "BatchNormalization");
            norms.Add((normKey, norm));
            return norm.Outputs[0];
        }

        if (graph.Inputs is not [var input])
        {
            throw Unexpected($"it has {graph.Inputs.Count} inputs instead of 1");
        }

        var x = Next(ConvNorm(Next(input, "Conv"), "conv1", "bn1"), "Relu").Outputs[0];
        var maxPool = Next(x, "MaxPool");
        x = maxPool.Outputs[0];
        var blocks = new List<int>();
        while (readers[x].ToList() is not [{ OpType: "AveragePool" }])
        {
            var blockInput = x;
            var readersOfInput = readers[blockInput].ToList();

            // The main path's first conv is the one whose BN feeds a Relu (a shortcut's BN feeds the Add).
            var mainConvs = readersOfInput.Where(n => n.OpType == "Conv" && Follows(n, "BatchNormalization", "Relu")).ToList();
            if (mainConvs is not [var conv1] || readersOfInput.Count != 2)
            {
                throw Unexpected($"'{blockInput}' should feed a block's main-path Conv and its shortcut (a Conv or the Add), but feeds {Describe(readersOfInput)}");
            }

            // A projection shortcut (Conv-BN) starts each layer after the first.
            var other = readersOfInput.Single(n => !ReferenceEquals(n, conv1));
            var projection = other.OpType == "Conv";
            if (blocks.Count == 0 && projection)
            {
                throw Unexpected("the first block has a projection shortcut; ResNet-18's layer1 has none");
            }

            if (blocks.Count == 0 || projection)
            {
                if (blocks.Count > 0)
                {
                    stages.Add(blockInput);
                }

                blocks.Add(0);
            }

            if (blocks.Count > 4)
            {
                throw Unexpected("it has more than 4 layers");
            }

            var key = $"layer{blocks.Count}.{blocks[^1]++}";
            var mid = Next(ConvNorm(Visit(conv1), $"{key}.conv1", $"{key}.bn1"), "Relu").Outputs[0];
            var main = ConvNorm(Next(mid, "Conv"), $"{key}.conv2", $"{key}.bn2");
            var add = Next(main, "Add");
            var shortcut = add.Inputs is [var a, var b] ? (a == main ? b : a) : throw Unexpected($"Add '{add.Name}' has {add.Inputs.Length} inputs");
            var expected = projection ? ConvNorm(Visit(other), $"{key}.downsample.0", $"{key}.downsample.1") : blockInput;
            if (shortcut != expected)
            {
                throw Unexpected($"block {key}'s Add reads '{shortcut}' where its shortcut '{expected}' was expected");
            }

            x = Next(add.Outputs[0], "Relu").Outputs[0];
        }

        stages.Add(x);
        if (blocks.Count != 4)
        {
            throw Unexpected($"it has {blocks.Count} layers instead of 4");
        }

        var averagePool = Next(x, "AveragePool");
        if (!graph.Outputs.Contains(averagePool.Outputs[0]))
        {
            throw Unexpected($"the final AveragePool's output '{averagePool.Outputs[0]}' is not a graph output");
        }

        var unvisited = graph.Nodes.Where(n => !visited.Contains(n)).ToList();
        return unvisited.Count == 0
            ? new ResNet18Graph(blocks, convs, norms, maxPool, averagePool, stages)
            : throw Unexpected($"{unvisited.Count} nodes are not part of the ResNet: {Describe(unvisited)}");

        bool Follows(OnnxNode node, string nextOp, string thenOp) =>
            readers[node.Outputs[0]].ToList() is [{ } next] && next.OpType == nextOp
            && readers[next.Outputs[0]].ToList() is [{ } then] && then.OpType == thenOp;
    }

    private static string Describe(IEnumerable<OnnxNode> nodes)
    {
        var list = nodes.Take(6).Select(static n => $"{n.OpType} '{n.Outputs.FirstOrDefault()}'").ToList();
        return list.Count == 0 ? "nothing" : string.Join(", ", list);
    }
}
