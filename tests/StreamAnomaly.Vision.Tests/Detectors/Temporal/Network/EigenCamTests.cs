using StreamAnomaly.Vision.Detectors.Temporal.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Temporal.Network;

public sealed class EigenCamTests
{
    // A 3x4 spatial pattern u (12 pixels) and channel weights v (5 channels, mixed signs, positive mean).
    private static readonly double[] U = [0, 1, 4, 9, 2, 7, 3, 8, 5, 6, 10, 11];
    private static readonly double[] V = [2, -1, 0.5, 3, 1];

    /// <summary>Activation [1, frames, C, 3, 4] whose frame f is the rank-one A[c, p] = u[p] v[c] sign_f.</summary>
    private static Tensor RankOne(params double[] signs)
    {
        var values = new double[signs.Length * V.Length * U.Length];
        for (var f = 0; f < signs.Length; f++)
        {
            for (var c = 0; c < V.Length; c++)
            {
                for (var p = 0; p < U.Length; p++)
                {
                    values[(((f * V.Length) + c) * U.Length) + p] = U[p] * V[c] * signs[f];
                }
            }
        }

        return tensor(values, [1, signs.Length, V.Length, 3, 4], float64);
    }

    private static double[] Normalised(IEnumerable<double> values)
    {
        var array = values.ToArray();
        double lo = array.Min(), hi = array.Max();
        return array.Select(v => (v - lo) / (hi - lo)).ToArray();
    }

    [Fact]
    public void A_rank_one_activation_gives_back_its_spatial_factor_normalised()
    {
        using var scope = NewDisposeScope();
        var map = EigenCam.FrameMaps(RankOne(1));
        Assert.Equal(new long[] { 1, 1, 3, 4 }, map.shape);
        var expected = Normalised(U);
        var actual = map.flatten().data<double>().ToArray();
        for (var p = 0; p < U.Length; p++)
        {
            Assert.Equal(expected[p], actual[p], 9);
        }
    }

    [Fact]
    public void The_sign_follows_the_mean_activation_frame_by_frame()
    {
        // Negating v negates the activation: its mean over channels is then -u mean(v), so the map that
        // correlates positively with it is normalise(-u) = 1 - normalise(u). Whatever sign the SVD picks,
        // each frame is fixed on its own.
        using var scope = NewDisposeScope();
        var maps = EigenCam.FrameMaps(RankOne(1, -1, 1, -1));
        var expected = Normalised(U);
        for (var f = 0; f < 4; f++)
        {
            var actual = maps[0, f].flatten().data<double>().ToArray();
            for (var p = 0; p < U.Length; p++)
            {
                Assert.Equal(f % 2 == 0 ? expected[p] : 1 - expected[p], actual[p], 9);
            }
        }
    }

    [Fact]
    public void A_flat_activation_gives_an_empty_map()
    {
        using var scope = NewDisposeScope();
        var map = EigenCam.FrameMaps(ones([1, 2, 4, 3, 3]));
        Assert.Equal(0f, map.abs().max().item<float>());
    }

    [Fact]
    public void Threshold_zeroes_values_below_it_and_keeps_the_rest()
    {
        using var scope = NewDisposeScope();
        var maps = tensor(new float[] { 0.05f, 0.1f, 0.5f, 0.09f }, [1, 1, 1, 4]);
        var result = EigenCam.Threshold(maps, 0.1).flatten().data<float>().ToArray();
        Assert.Equal(new[] { 0f, 0.1f, 0.5f, 0f }, result);
    }

    [Fact]
    public void Temporal_pooling_averages_the_frames_that_exist()
    {
        // One pixel over 5 frames: 1, 0, 0, 0, 3; window 3:
        // t0 = (1 + 0) / 2, t1 = (1 + 0 + 0) / 3, t2 = 0, t3 = (0 + 0 + 3) / 3, t4 = (0 + 3) / 2.
        using var scope = NewDisposeScope();
        var maps = tensor(new float[] { 1, 0, 0, 0, 3 }, [1, 5, 1, 1]);
        var pooled = EigenCam.TemporalPool(maps, 3).flatten().data<float>().ToArray();
        float[] expected = [0.5f, 1f / 3, 0f, 1f, 1.5f];
        for (var t = 0; t < 5; t++)
        {
            Assert.Equal(expected[t], pooled[t], 6);
        }

        Assert.Equal(maps.flatten().data<float>().ToArray(), EigenCam.TemporalPool(maps, 1).flatten().data<float>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => EigenCam.TemporalPool(maps, 4));
    }

    [Fact]
    public void Layers_are_averaged_at_the_largest_size()
    {
        using var scope = NewDisposeScope();
        var fine = full([1, 2, 4, 4], 0.2f);
        var coarse = full([1, 2, 2, 2], 0.6f);
        var combined = EigenCam.Combine([fine, coarse]);
        Assert.Equal(new long[] { 1, 2, 4, 4 }, combined.shape);
        Assert.True(combined.allclose(full([1, 2, 4, 4], 0.4f)));
    }

    [Fact]
    public void Masks_have_the_frame_size_and_lie_in_unit_range()
    {
        using var scope = NewDisposeScope();
        var activations = new[] { rand([2, 6, 8, 4, 4]), rand([2, 6, 8, 8, 8]) };
        var masks = EigenCam.Masks(activations, 64, 48, threshold: 0.1, window: 5);
        Assert.Equal(new long[] { 2, 6, 64, 48 }, masks.shape);
        Assert.True(masks.min().item<float>() >= 0f && masks.max().item<float>() <= 1f);
        Assert.True(masks.max().item<float>() > 0f);
    }
}
