using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// One rendered frame with exact ground truth. Each mask covers exactly the pixels where
/// <see cref="Frame"/> differs from the same frame rendered without that object group:
/// <see cref="NormalObject"/> = visible hand pixels, <see cref="Person"/> = visible people pixels,
/// <see cref="Anomaly"/> = pixels that differ from the normal counterfactual (same seed and time,
/// anomaly switched off). <see cref="Label"/> is 1 iff the anomaly mask is non-empty.
/// </summary>
public sealed record SceneFrame(Frame Frame, BinaryMask NormalObject, BinaryMask Person, BinaryMask Anomaly)
{
    /// <summary>0 normal, 1 anomalous: 1 exactly when <see cref="Anomaly"/> has a pixel.</summary>
    public int Label => Anomaly.Data.AsSpan().Contains(true) ? 1 : 0;
}
