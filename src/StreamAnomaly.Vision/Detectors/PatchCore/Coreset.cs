using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>
/// Greedy k-center coreset selection (PatchCore, after Sener and Savarese): start from a random
/// point, then repeatedly add the point farthest from everything chosen so far, so the chosen
/// points cover the set with the smallest largest gap. Distances are measured after a Gaussian
/// random projection to <c>projection</c> dimensions (Johnson-Lindenstrauss), which keeps them
/// nearly unchanged at a fraction of the cost.
/// </summary>
public static class Coreset
{
    /// <summary>
    /// Indices of <paramref name="count"/> rows of <paramref name="points"/> [n, d] chosen greedily,
    /// in the order chosen (no repeats while count &lt;= n).
    /// </summary>
    /// <param name="points">Candidate rows [n, d].</param>
    /// <param name="count">How many to keep (at least 1, at most n).</param>
    /// <param name="projection">Projected dimensions for the distances; 0 or &gt;= d measures in the full space.</param>
    /// <param name="generator">Seeds the projection and the first point.</param>
    public static long[] Greedy(Tensor points, int count, int projection, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(generator);
        var n = points.shape[0];
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, n);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var d = points.shape[1];
        using var scale = (1 / Math.Sqrt(projection)).ToScalar();
        var x = projection > 0 && projection < d
            ? points.mm(randn([d, projection], generator: generator, device: points.device).mul_(scale))
            : points;
        var norms = x.square().sum(1);
        var chosen = new long[count];
        chosen[0] = randint(n, [1], generator: generator).item<long>();
        var gap = Distances(x, norms, chosen[0]);
        for (var i = 1; i < count; i++)
        {
            using var step = NewDisposeScope();
            chosen[i] = gap.argmax().item<long>();
            var closer = minimum(gap, Distances(x, norms, chosen[i])).MoveToOuterDisposeScope();
            gap.Dispose(); // one [n] vector alive at a time, not one per step
            gap = closer;
        }

        return chosen;
    }

    /// <summary>Squared distances [n] of every row of <paramref name="x"/> to its row <paramref name="center"/>.</summary>
    private static Tensor Distances(Tensor x, Tensor norms, long center)
    {
        var c = x[center];
        return norms.Plus(c.dot(c)).sub_(x.mv(c).mul_(HeldScalars.Two));
    }
}
