using StreamAnomaly.Vision.Detectors.CutPaste;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.CutPaste;

public sealed class GaussianDensityTests
{
    private static double[][] Points(int n, int p, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var shared = random.NextDouble();
            return Enumerable.Range(0, p).Select(j => (shared * j) + (random.NextDouble() * (j + 1))).ToArray();
        }).ToArray();
    }

    private static Tensor ToTensor(double[][] rows) => tensor(rows.SelectMany(static r => r).ToArray(), [rows.Length, rows[0].Length]);

    /// <summary>The biased covariance of the rows, on doubles.</summary>
    private static double[,] Covariance(double[][] x)
    {
        var (n, p) = (x.Length, x[0].Length);
        var mean = Enumerable.Range(0, p).Select(j => x.Average(r => r[j])).ToArray();
        var s = new double[p, p];
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                s[i, j] = x.Sum(r => (r[i] - mean[i]) * (r[j] - mean[j])) / n;
            }
        }

        return s;
    }

    /// <summary>
    /// Ledoit and Wolf's shrinkage written out from their Lemma 3.2-3.4 as scikit-learn states it:
    /// b^2 = min(d^2, (1/n^2) sum_k ||x_k x_k^T - S||_F^2), d^2 = ||S - mu I||_F^2, intensity b^2 / d^2
    /// (norms scaled by 1/p).
    /// </summary>
    private static double ReferenceShrinkage(double[][] x)
    {
        var (n, p) = (x.Length, x[0].Length);
        var mean = Enumerable.Range(0, p).Select(j => x.Average(r => r[j])).ToArray();
        var centred = x.Select(r => r.Select((v, j) => v - mean[j]).ToArray()).ToArray();
        var s = Covariance(x);
        var mu = Enumerable.Range(0, p).Sum(i => s[i, i]) / p;
        double d2 = 0, b2 = 0;
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                d2 += Math.Pow(s[i, j] - (i == j ? mu : 0), 2) / p;
                b2 += centred.Sum(r => Math.Pow((r[i] * r[j]) - s[i, j], 2)) / ((double)n * n * p);
            }
        }

        return Math.Min(b2, d2) / d2;
    }

    /// <summary>Inverse of a small matrix by Gauss-Jordan elimination with partial pivoting.</summary>
    private static double[,] Inverse(double[,] a)
    {
        var p = a.GetLength(0);
        var m = new double[p, 2 * p];
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                m[i, j] = a[i, j];
            }

            m[i, p + i] = 1;
        }

        for (var col = 0; col < p; col++)
        {
            var pivot = Enumerable.Range(col, p - col).MaxBy(r => Math.Abs(m[r, col]));
            for (var j = 0; j < 2 * p; j++)
            {
                (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            }

            var diagonal = m[col, col];
            for (var j = 0; j < 2 * p; j++)
            {
                m[col, j] /= diagonal;
            }

            for (var r = 0; r < p; r++)
            {
                var factor = m[r, col];
                for (var j = 0; r != col && j < 2 * p; j++)
                {
                    m[r, j] -= factor * m[col, j];
                }
            }
        }

        var inverse = new double[p, p];
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                inverse[i, j] = m[i, p + j];
            }
        }

        return inverse;
    }

    [Fact]
    public void Ledoit_wolf_shrinkage_matches_its_definition()
    {
        using var scope = NewDisposeScope();
        foreach (var (n, p, seed) in new[] { (30, 4, 1), (8, 6, 2), (200, 3, 3) })
        {
            var points = Points(n, p, seed);

            var shrinkage = GaussianDensity.LedoitWolfShrinkage(ToTensor(points));

            Assert.Equal(ReferenceShrinkage(points), shrinkage, 10);
            Assert.InRange(shrinkage, 0, 1);
        }
    }

    [Fact]
    public void Fewer_samples_than_dimensions_shrink_more_than_many_samples_do()
    {
        using var scope = NewDisposeScope();

        var few = GaussianDensity.LedoitWolfShrinkage(ToTensor(Points(6, 8, 4)));
        var many = GaussianDensity.LedoitWolfShrinkage(ToTensor(Points(600, 8, 4)));

        Assert.True(few > 3 * many, $"shrinkage with 6 samples {few}, with 600 {many}");
    }

    [Fact]
    public void The_distance_is_the_mahalanobis_distance_under_the_shrunk_covariance()
    {
        using var scope = NewDisposeScope();
        var points = Points(25, 3, 5);
        double[][] queries = [[0, 0, 0], [1, 2, 3], [0.5, 1.5, 2.5], [-4, 9, 0]];
        const double shrinkage = 0.2;
        var (density, used) = GaussianDensity.Fit(ToTensor(points), shrinkage);
        using var owner = density;

        var distances = density.Distance(ToTensor(queries)).data<double>().ToArray();

        var s = Covariance(points);
        var mu = (s[0, 0] + s[1, 1] + s[2, 2]) / 3;
        var shrunk = new double[3, 3];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                shrunk[i, j] = ((1 - shrinkage) * s[i, j]) + (i == j ? (shrinkage + GaussianDensity.Ridge) * mu : 0);
            }
        }

        var precision = Inverse(shrunk);
        var mean = Enumerable.Range(0, 3).Select(j => points.Average(r => r[j])).ToArray();
        Assert.Equal(shrinkage, used);
        for (var q = 0; q < queries.Length; q++)
        {
            var d = queries[q].Select((v, j) => v - mean[j]).ToArray();
            var expected = Math.Sqrt(Enumerable.Range(0, 3).Sum(i => Enumerable.Range(0, 3).Sum(j => d[i] * precision[i, j] * d[j])));
            Assert.Equal(expected, distances[q], 9);
        }
    }

    [Fact]
    public void The_ridge_keeps_a_degenerate_covariance_invertible()
    {
        using var scope = NewDisposeScope();
        double[][] flat = [[1, 2, 0], [2, 4, 0], [3, 6, 0], [4, 8, 0]]; // rank one

        var (density, _) = GaussianDensity.Fit(ToTensor(flat), 0);
        using var owner = density;
        var distances = density.Distance(ToTensor([[2.5, 5, 0], [2.5, 5, 1]])).data<double>().ToArray();

        Assert.Equal(0, distances[0], 6);
        Assert.True(double.IsFinite(distances[1]) && distances[1] > 100, $"{distances[1]}");
    }
}
