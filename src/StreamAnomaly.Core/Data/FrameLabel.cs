namespace StreamAnomaly.Core.Data;

/// <summary>Ground truth for one frame of a clip (one row of <c>CLIP.labels.csv</c>).</summary>
/// <param name="Frame">Zero-based frame index within the clip.</param>
/// <param name="Label">0 = normal, 1 = anomalous.</param>
/// <param name="Category">Free-text category (e.g. "background", "normal-object", "dropped-part").</param>
public sealed record FrameLabel(int Frame, int Label, string Category)
{
    /// <summary>True for label 1.</summary>
    public bool IsAnomalous => Label == 1;
}
