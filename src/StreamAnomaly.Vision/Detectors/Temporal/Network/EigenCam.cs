using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace StreamAnomaly.Vision.Detectors.Temporal.Network;

/// <summary>
/// Eigen-CAM masks (Muhammad and Yeasin 2020) as the background-masking paper uses them: computed per
/// frame (never across time) from the activations of the last conv layers of <see cref="R3D18"/>, then
/// averaged over layers, thresholded and smoothed along time. All tensors use the clip layout
/// [N, T, ...]; nothing here records gradients.
/// </summary>
/// <remarks>
/// Per frame, the activation [C, h, w] becomes the matrix A of (h w) rows and C columns; with the SVD
/// <c>A = U S V^T</c>, the map is the projection <c>A v_1</c> onto the first right singular vector (the
/// principal direction of the channels), reshaped to [h, w]. Singular vectors have no sign of their own,
/// so the map is flipped when it correlates negatively (Pearson, over the pixels) with the mean activation
/// over channels, then min-max normalised to [0, 1] (a map with no spread becomes all 0).
/// </remarks>
public static class EigenCam
{
    // Held, not converted per call (see HeldScalars): these maps are made for every frame a temporal worker scores.
    private static readonly Scalar Tiny = 1e-12.ToScalar();
    private static readonly Scalar FlatRelative = 1e-6.ToScalar();

    /// <summary>Eigen-CAM map of every frame: activation [N, T, C, h, w] -> [N, T, h, w] in [0, 1].</summary>
    public static Tensor FrameMaps(Tensor activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (activation.dim() != 5)
        {
            throw new ArgumentException($"expected an activation [N, T, C, h, w], got [{string.Join(", ", activation.shape)}]", nameof(activation));
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = activation.shape[0], t = activation.shape[1], c = activation.shape[2], h = activation.shape[3], w = activation.shape[4];
        var a = activation.detach().reshape(n * t, c, h * w).transpose(1, 2);     // [B, hw, C]
        var (_, _, vh) = linalg.svd(a, fullMatrices: false);
        var first = vh.select(1, 0).unsqueeze(-1);                               // [B, C, 1]
        var projection = a.matmul(first).squeeze(-1);                           // [B, hw]

        var mean = a.mean([-1L]);
        var centredProjection = projection - projection.mean([-1L], keepdim: true);
        var centredMean = mean - mean.mean([-1L], keepdim: true);
        var correlation = (centredProjection * centredMean).sum(-1, keepdim: true);
        projection = where(correlation.lt(HeldScalars.Zero), projection.neg(), projection);

        var low = projection.amin([-1L], keepdim: true);
        var range = projection.amax([-1L], keepdim: true) - low;
        var scale = projection.abs().amax([-1L], keepdim: true);
        var spread = range.gt(scale.mul(FlatRelative).add(Tiny));
        var normalised = where(spread, (projection - low) / range.clamp_min(Tiny), zeros_like(projection));
        return normalised.reshape(n, t, h, w).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mean of several layers' maps, each [N, T, h_i, w_i], after bilinear resizing to the largest h and w
    /// among them: [N, T, h, w]. Values stay in [0, 1].
    /// </summary>
    public static Tensor Combine(IReadOnlyList<Tensor> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (maps.Count == 0)
        {
            throw new ArgumentException("at least one map is needed", nameof(maps));
        }

        using var scope = NewDisposeScope();
        long n = maps[0].shape[0], t = maps[0].shape[1];
        var height = maps.Max(m => m.shape[2]);
        var width = maps.Max(m => m.shape[3]);
        var sum = zeros([n, t, height, width], maps[0].dtype, maps[0].device);
        foreach (var map in maps)
        {
            if (map.dim() != 4 || map.shape[0] != n || map.shape[1] != t)
            {
                throw new ArgumentException($"every map must be [{n}, {t}, h, w], got [{string.Join(", ", map.shape)}]", nameof(maps));
            }

            sum = sum.Plus(Resize(map, height, width));
        }

        using var count = maps.Count.ToScalar();
        return sum.div(count).MoveToOuterDisposeScope();
    }

    /// <summary>Values below <paramref name="threshold"/> become 0, the rest are kept as they are.</summary>
    public static Tensor Threshold(Tensor maps, double threshold)
    {
        ArgumentNullException.ThrowIfNull(maps);
        using var scope = NewDisposeScope();
        using var held = threshold.ToScalar();
        return where(maps.lt(held), zeros_like(maps), maps).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Moving average along time of maps [N, T, h, w] with an odd <paramref name="window"/>, centred; at the
    /// clip's ends only the frames that exist are averaged (no zero padding). Window 1 is the identity.
    /// </summary>
    public static Tensor TemporalPool(Tensor maps, int window)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (window < 1 || window % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "the temporal window must be odd and positive");
        }

        using var scope = NewDisposeScope();
        var pooled = avg_pool3d(
            maps.unsqueeze(1),
            kernel_size: [window, 1, 1],
            stride: [1, 1, 1],
            padding: [window / 2, 0, 0],
            count_include_pad: false);
        return pooled.squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The whole chain: per-frame maps of each activation ([N, T, C, h, w], e.g. from
    /// <see cref="R3D18.ForwardWithActivations"/>), averaged over layers, thresholded, pooled along time with
    /// <paramref name="window"/>, resized bilinearly to <paramref name="height"/> x <paramref name="width"/>:
    /// masks [N, T, height, width] in [0, 1] (1 = keep the pixel).
    /// </summary>
    public static Tensor Masks(IReadOnlyList<Tensor> activations, long height, long width, double threshold = 0.1, int window = 5)
    {
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var combined = Combine(activations.Select(FrameMaps).ToArray());
        var pooled = TemporalPool(Threshold(combined, threshold), window);
        return Resize(pooled, height, width).clamp(HeldScalars.Zero, HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>Bilinear resize of [N, T, h, w] to [N, T, height, width] (align_corners = false).</summary>
    private static Tensor Resize(Tensor maps, long height, long width)
    {
        if (maps.shape[2] == height && maps.shape[3] == width)
        {
            return maps.alias();
        }

        long n = maps.shape[0], t = maps.shape[1];
        var resized = interpolate(maps.reshape(n * t, 1, maps.shape[2], maps.shape[3]), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.reshape(n, t, height, width);
    }
}
