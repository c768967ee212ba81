using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.CutPaste;

/// <summary>
/// A Gaussian fitted to the normal frames' embeddings (CutPaste's density estimator), as a module so
/// it travels in the bundle's weights: buffers <c>mean</c> [D] and <c>precision</c> [D, D] (the
/// inverse of the regularised covariance), both float64. A frame's score is its Mahalanobis
/// distance <c>sqrt((x - mean)^T precision (x - mean))</c>.
/// </summary>
internal sealed class GaussianDensity : nn.Module
{
    /// <summary>Added to the covariance's diagonal, as a share of its mean variance, so it is invertible whatever the embeddings.</summary>
    public const double Ridge = 1e-6;

    private readonly Tensor mean;
    private readonly Tensor precision;

    private GaussianDensity(Tensor mean, Tensor precision) : base(nameof(GaussianDensity))
    {
        (this.mean, this.precision) = (mean, precision);
        register_buffer(nameof(mean), mean);
        register_buffer(nameof(precision), precision);
    }

    /// <summary>Dimension of the embeddings it models.</summary>
    public long Dimension => mean.shape[0];

    /// <summary>Blank buffers of dimension <paramref name="dimension"/>, for a bundle's weights to load into.</summary>
    public static GaussianDensity Blank(long dimension) => new(zeros(dimension, dtype: ScalarType.Float64), zeros(dimension, dimension, dtype: ScalarType.Float64));

    /// <summary>
    /// Ledoit and Wolf's (2004) shrinkage intensity of the covariance of <paramref name="embeddings"/>
    /// [N, D] towards a scaled identity, in [0, 1] (scikit-learn's <c>ledoit_wolf_shrinkage</c>, the
    /// estimator the CutPaste paper's Gaussian uses).
    /// </summary>
    public static double LedoitWolfShrinkage(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        using var scope = NewDisposeScope();
        var x = embeddings.to_type(ScalarType.Float64);
        var (n, p) = (x.shape[0], x.shape[1]);
        x = x.sub(x.mean([0], keepdim: true));
        var squares = x.square();
        var varianceTrace = squares.sum([0]).div(n); // the diagonal of the empirical covariance
        var mu = varianceTrace.sum().item<double>() / p;
        var beta = squares.t().matmul(squares).sum().item<double>();
        var delta = x.t().matmul(x).square().sum().item<double>() / ((double)n * n);
        beta = (beta / n - delta) / ((double)p * n);
        delta = (delta - (2 * mu * varianceTrace.sum().item<double>()) + (p * mu * mu)) / p;
        beta = Math.Min(beta, delta);
        return beta <= 0 || delta <= 0 ? 0 : beta / delta;
    }

    /// <summary>
    /// The Gaussian of <paramref name="embeddings"/> [N, D] (N &gt;= 2): their mean and the inverse of
    /// <c>(1 - s) S + s mu I + Ridge mu I</c>, S their (biased) covariance, mu its mean variance and
    /// s the shrinkage (<see cref="LedoitWolfShrinkage"/> when <paramref name="shrinkage"/> is null).
    /// </summary>
    /// <returns>The density and the shrinkage used.</returns>
    public static (GaussianDensity Density, double Shrinkage) Fit(Tensor embeddings, double? shrinkage)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.dim() != 2 || embeddings.shape[0] < 2)
        {
            throw new ArgumentException($"a Gaussian needs two or more embeddings [N, D], got [{string.Join(", ", embeddings.shape)}]", nameof(embeddings));
        }

        var s = shrinkage ?? LedoitWolfShrinkage(embeddings);
        using var scope = NewDisposeScope();
        var x = embeddings.to_type(ScalarType.Float64);
        var (n, p) = (x.shape[0], x.shape[1]);
        var mean = x.mean([0]);
        var centred = x.sub(mean);
        var covariance = centred.t().matmul(centred).div(n);
        var mu = covariance.trace().item<double>() / p;
        using var keep = (1 - s).ToScalar();
        using var identity = ((s + Ridge) * Math.Max(mu, double.Epsilon)).ToScalar();
        var regularised = covariance.mul(keep).add(eye(p, dtype: ScalarType.Float64, device: x.device).mul(identity), HeldScalars.One);
        var precision = linalg.inv(regularised);
        precision = precision.add(precision.t(), HeldScalars.One).mul(HeldScalars.Half); // exactly symmetric
        return (new GaussianDensity(mean.contiguous().DetachFromDisposeScope(), precision.contiguous().DetachFromDisposeScope()), s);
    }

    /// <summary>Mahalanobis distance of each of <paramref name="embeddings"/> [Q, D] to the mean, [Q] float64.</summary>
    public Tensor Distance(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        using var scope = NewDisposeScope();
        var d = embeddings.to_type(ScalarType.Float64).sub(mean);
        return d.matmul(precision).mul(d).sum([1]).clamp_min(HeldScalars.Zero).sqrt().MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            mean.Dispose();
            precision.Dispose();
        }

        base.Dispose(disposing);
    }
}
