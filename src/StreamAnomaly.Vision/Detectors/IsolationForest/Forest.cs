using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.IsolationForest;

/// <summary>
/// An isolation forest over fixed-length vectors, as a module so it travels in a bundle's weights.
/// Each tree is a complete binary tree of <see cref="Nodes"/> slots (node i's children are 2i + 1
/// and 2i + 2): buffer <c>feature</c> [T, M] holds the split feature of an inner node and -1 at a
/// leaf (and in unused slots), <c>threshold</c> [T, M] the split value (a vector goes left when its
/// feature is below it), <c>size</c> [T, M] how many training vectors ended in a leaf.
/// </summary>
internal sealed class Forest : nn.Module
{
    private const int Leaf = -1;

    private readonly Tensor feature;
    private readonly Tensor threshold;
    private readonly Tensor size;

    private long[] features = [];
    private double[] thresholds = [];
    private long[] sizes = [];

    private Forest(Tensor feature, Tensor threshold, Tensor size, int samples)
        : base(nameof(Forest))
    {
        (this.feature, this.threshold, this.size) = (feature, threshold, size);
        Samples = samples;
        register_buffer(nameof(feature), feature);
        register_buffer(nameof(threshold), threshold);
        register_buffer(nameof(size), size);
        Cache();
    }

    /// <summary>Trees in the forest.</summary>
    public int Trees => (int)feature.shape[0];

    /// <summary>Vectors each tree was grown on (psi).</summary>
    public int Samples { get; }

    /// <summary>Slots per tree: a complete tree of the height limit.</summary>
    public int Nodes => (int)feature.shape[1];

    /// <summary>The height limit ceil(log2 psi) of trees grown on <paramref name="samples"/> vectors.</summary>
    public static int HeightLimit(int samples) => (int)Math.Ceiling(Math.Log2(samples));

    /// <summary>Slots of a complete binary tree cut at the height limit of <paramref name="samples"/>.</summary>
    public static int NodesFor(int samples) => (2 << HeightLimit(samples)) - 1;

    /// <summary>An empty forest of the right shapes, for a bundle's weights to load into (then <see cref="Cache"/>).</summary>
    public static Forest Blank(int trees, int samples) =>
        new(full(trees, NodesFor(samples), Leaf, ScalarType.Int64), zeros(trees, NodesFor(samples), ScalarType.Float64), zeros(trees, NodesFor(samples), ScalarType.Int64), samples);

    /// <summary>
    /// Grows <paramref name="trees"/> trees, each on a random subsample of min(<paramref name="samples"/>, N)
    /// of <paramref name="vectors"/> (N rows of equal length): at each node a random feature that
    /// is not constant there and a threshold uniform between its lowest and highest value, until
    /// one vector is left or the height limit is reached.
    /// </summary>
    public static Forest Grow(IReadOnlyList<float[]> vectors, int trees, int samples, int seed)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count < 2)
        {
            throw new ArgumentException($"an isolation forest needs at least 2 vectors, got {vectors.Count}", nameof(vectors));
        }

        var psi = Math.Min(samples, vectors.Count);
        var nodes = NodesFor(psi);
        var features = Enumerable.Repeat((long)Leaf, trees * nodes).ToArray();
        var thresholds = new double[trees * nodes];
        var sizes = new long[trees * nodes];
        var random = new Random(seed);
        var height = HeightLimit(psi);
        for (var t = 0; t < trees; t++)
        {
            var subsample = Enumerable.Range(0, vectors.Count).ToArray();
            random.Shuffle(subsample);
            Split(vectors, subsample[..psi], t * nodes, 0, 0, height, random, features, thresholds, sizes);
        }

        return new Forest(
            tensor(features, [trees, nodes]),
            tensor(thresholds, [trees, nodes]),
            tensor(sizes, [trees, nodes]),
            psi);
    }

    private static void Split(IReadOnlyList<float[]> vectors, int[] rows, int tree, int node, int depth, int height, Random random, long[] features, double[] thresholds, long[] sizes)
    {
        var slot = tree + node;
        if (depth < height && rows.Length > 1 && NonConstantFeature(vectors, rows, random) is var (f, low, high))
        {
            var split = low + (random.NextDouble() * (high - low));
            features[slot] = f;
            thresholds[slot] = split;
            Split(vectors, rows.Where(r => vectors[r][f] < split).ToArray(), tree, (2 * node) + 1, depth + 1, height, random, features, thresholds, sizes);
            Split(vectors, rows.Where(r => vectors[r][f] >= split).ToArray(), tree, (2 * node) + 2, depth + 1, height, random, features, thresholds, sizes);
            return;
        }

        sizes[slot] = rows.Length;
    }

    /// <summary>A random feature whose values differ among <paramref name="rows"/> with their range (tried as often as there are features), or null.</summary>
    private static (int Feature, double Low, double High)? NonConstantFeature(IReadOnlyList<float[]> vectors, int[] rows, Random random)
    {
        var dimension = vectors[rows[0]].Length;
        for (var attempt = 0; attempt < dimension; attempt++)
        {
            var f = random.Next(dimension);
            var low = rows.Min(r => vectors[r][f]);
            var high = rows.Max(r => vectors[r][f]);
            if (high > low)
            {
                return (f, low, high);
            }
        }

        return null;
    }

    /// <summary>Reads the buffers into arrays for scoring (after weights were loaded into them); throws <see cref="ArgumentException"/> when a split feature is outside 0 .. <paramref name="dimension"/> - 1.</summary>
    public void Cache(int? dimension = null)
    {
        features = feature.cpu().data<long>().ToArray();
        thresholds = threshold.cpu().data<double>().ToArray();
        sizes = size.cpu().data<long>().ToArray();
        if (dimension is { } d && features.Any(f => f < Leaf || f >= d))
        {
            throw new ArgumentException($"a split feature lies outside -1 .. {d - 1}");
        }
    }

    /// <summary>
    /// The anomaly score 2^(-E[h(x)] / c(psi)) of <paramref name="vector"/>: h(x) the depth of the
    /// leaf it reaches plus c(leaf size) (the average depth an unbuilt subtree would add), averaged
    /// over the trees. About 0.5 or less for normal vectors, towards 1 for isolated ones.
    /// </summary>
    public double Score(ReadOnlySpan<float> vector)
    {
        var total = 0.0;
        var nodes = Nodes;
        for (var t = 0; t < Trees; t++)
        {
            var node = 0;
            var depth = 0;
            while (node < nodes && features[(t * nodes) + node] is var f && f != Leaf)
            {
                node = vector[(int)f] < thresholds[(t * nodes) + node] ? (2 * node) + 1 : (2 * node) + 2;
                depth++;
            }

            total += depth + AveragePath(node < nodes ? sizes[(t * nodes) + node] : 0);
        }

        return Math.Pow(2, -total / Trees / AveragePath(Samples));
    }

    /// <summary>c(n): the average path length of an unsuccessful search in a binary search tree of n keys, 2 H(n - 1) - 2 (n - 1) / n; 0 for n &lt;= 1.</summary>
    public static double AveragePath(long n) => n switch
    {
        <= 1 => 0,
        2 => 1,
        _ => (2 * (Math.Log(n - 1) + 0.5772156649015329)) - (2.0 * (n - 1) / n),
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            feature.Dispose();
            threshold.Dispose();
            size.Dispose();
        }

        base.Dispose(disposing);
    }
}
