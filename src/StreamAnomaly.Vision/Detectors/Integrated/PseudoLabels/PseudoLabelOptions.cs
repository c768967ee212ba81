namespace StreamAnomaly.Vision.Detectors.Integrated.PseudoLabels;

/// <summary>
/// Where morphological noise removal sits in the pseudo-labelling pipeline: the three variants the
/// integrated-CNN paper compares (relative mask mAP 93.91 / 91.60 / 96.82 for none / before / after).
/// </summary>
public enum PseudoLabelVariant
{
    /// <summary>
    /// Blob extraction first, then opening and closing on each region's own mask (the paper's best,
    /// the default). A region that opening splits keeps only its largest remaining piece.
    /// </summary>
    NoiseRemovalAfterBlobs = 0,

    /// <summary>Connected components of the thresholded residual, as they are (only the minimum-area filter applies).</summary>
    NoNoiseRemoval = 1,

    /// <summary>
    /// Opening and closing on the whole binary mask first, then connected components. Opening can
    /// cut an object at a thin part into several instances, and closing can merge two nearby objects.
    /// </summary>
    NoiseRemovalBeforeBlobs = 2,
}

/// <summary>Settings of <see cref="PseudoLabeler.Label"/>.</summary>
/// <param name="Threshold">
/// A residual pixel is foreground when its value is strictly greater than this (same unit as the
/// <see cref="Core.Imaging.AnomalyMap"/>: squared residual, channel-averaged). Finite. Derive it
/// from background-only frames with <see cref="PseudoLabelThreshold.FromNormalResiduals"/>.
/// </param>
/// <param name="KernelSize">
/// Side in pixels of the elliptical structuring element used for opening and closing; odd, &gt;= 1
/// (1 turns the morphology into a no-op). OpenCV's 3x3 ellipse is the 4-neighbour cross, so a
/// cleaned rectangle loses its four corner pixels.
/// </param>
/// <param name="MinAreaFraction">
/// Regions whose (cleaned) area is below <c>ceil(MinAreaFraction * width * height)</c> pixels are
/// dropped; in [0, 1]. A region always needs at least one pixel.
/// </param>
/// <param name="Variant">Where noise removal happens; see <see cref="PseudoLabelVariant"/>.</param>
public sealed record PseudoLabelOptions(
    double Threshold,
    int KernelSize = 3,
    double MinAreaFraction = 0.001,
    PseudoLabelVariant Variant = PseudoLabelVariant.NoiseRemovalAfterBlobs)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(Threshold))
        {
            throw new ArgumentException($"pseudo-label threshold must be finite, got {Threshold}");
        }

        if (KernelSize < 1 || KernelSize % 2 == 0)
        {
            throw new ArgumentException($"pseudo-label kernel size must be odd and >= 1, got {KernelSize}");
        }

        if (MinAreaFraction is < 0 or > 1 || double.IsNaN(MinAreaFraction))
        {
            throw new ArgumentException($"pseudo-label minimum area fraction must lie in [0, 1], got {MinAreaFraction}");
        }

        if (!Enum.IsDefined(Variant))
        {
            throw new ArgumentException($"unknown pseudo-label variant {Variant}");
        }
    }

    /// <summary>The minimum region area in pixels for a <paramref name="width"/> x <paramref name="height"/> map (at least 1).</summary>
    public int MinAreaPixels(int width, int height)
    {
        // The small tolerance keeps fractions such as 0.014 * 10000 (= 140.00000000000003) at 140.
        var pixels = Math.Ceiling((MinAreaFraction * width * height) - 1e-6);
        return (int)Math.Max(1, pixels);
    }
}
