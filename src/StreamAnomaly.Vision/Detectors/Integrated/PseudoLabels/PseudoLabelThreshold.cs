using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

/// <summary>
/// The default pseudo-label threshold, from residuals of background-only (normal) frames.
/// <para>
/// Choice: a high percentile of the pooled per-pixel residual values, not mean + k * std. Residuals
/// of a trained autoencoder are strongly right-skewed (most pixels near 0, a thin tail at edges and
/// specular highlights), so a Gaussian k-sigma rule lands at an arbitrary point of that tail,
/// whereas the 99.9th percentile states the outcome directly: about 0.1 % of background pixels
/// exceed it. Those stray pixels are isolated salt noise, which the opening of
/// <see cref="PseudoLabeler"/> removes and the minimum-area filter drops.
/// </para>
/// </summary>
public static class PseudoLabelThreshold
{
    /// <summary>
    /// The <paramref name="percentile"/>-th percentile (0-100) of every pixel value of every map,
    /// pooled, interpolating linearly between the two nearest order statistics (numpy's default,
    /// the same rule as <see cref="Core.Scoring.Percentiles.OfSorted"/>). Maps may differ in size.
    /// Exact, so every value is held in memory (4 bytes a pixel): pass a sample of normal frames
    /// (a few hundred maps at model resolution are plenty for the 99.9th percentile).
    /// </summary>
    /// <exception cref="ArgumentException">No maps, or a value that is NaN or infinite.</exception>
    public static double FromNormalResiduals(IEnumerable<AnomalyMap> maps, double percentile = 99.9)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (percentile is < 0 or > 100 || double.IsNaN(percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "percentile must lie in [0, 100]");
        }

        var values = new List<float>();
        foreach (var map in maps)
        {
            ArgumentNullException.ThrowIfNull(map, nameof(maps));
            foreach (var v in map.Values)
            {
                if (!float.IsFinite(v))
                {
                    throw new ArgumentException($"normal residual maps must be finite, found {v}", nameof(maps));
                }
            }

            values.AddRange(map.Values);
        }

        if (values.Count == 0)
        {
            throw new ArgumentException("the threshold needs at least one normal residual map", nameof(maps));
        }

        values.Sort();
        var rank = percentile / 100.0 * (values.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, values.Count - 1);
        return values[lo] + ((rank - lo) * ((double)values[hi] - values[lo]));
    }
}
