namespace StreamAnomaly.Core.Imaging;

/// <summary>
/// A per-pixel, non-negative anomaly value (for reconstruction detectors: the squared residual,
/// averaged over colour channels), row-major (<c>Values.Length == Width * Height</c>). The map's
/// resolution is the model's input resolution, not necessarily the camera's.
/// </summary>
public sealed record AnomalyMap
{
    public AnomalyMap(int width, int height, float[] values)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != checked(width * height))
        {
            throw new ArgumentException($"a {width}x{height} map needs {width * height} values, got {values.Length}", nameof(values));
        }

        Width = width;
        Height = height;
        Values = values;
    }

    public int Width { get; }

    public int Height { get; }

    public float[] Values { get; }
}
