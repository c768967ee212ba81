using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Temporal;

namespace StreamAnomaly.Core.Tests.Temporal;

public sealed class FrameDistanceTests
{
    [Fact]
    public void Distance_is_the_mean_over_pixels_of_the_bgr_euclidean_norm()
    {
        // 2x1 frames. Frame 1 differs in pixel 0 by (3, 4, 0) -> 5 and pixel 1 by (0, 0, 1) -> 1: mean 3.
        var first = new Frame(2, 1, [10, 10, 10, 20, 20, 20]);
        var second = new Frame(2, 1, [13, 14, 10, 20, 20, 21]);
        Assert.Equal([0.0, 3.0, 0.0], FrameDistance.Compute([first, second, first]));
    }

    [Fact]
    public void Float_overload_matches_the_frame_one_and_is_mean_absolute_with_one_channel()
    {
        float[] a = [10, 10, 10, 20, 20, 20], b = [13, 14, 10, 20, 20, 21];
        Assert.Equal([0.0, 3.0], FrameDistance.Compute([a, b], channels: 3));
        var single = FrameDistance.Compute([a, b]);
        Assert.Equal(0, single[0]);
        Assert.Equal(8.0 / 6, single[1], 12);
    }

    [Fact]
    public void Frames_of_different_size_are_rejected()
    {
        var first = new Frame(2, 1, new byte[6]);
        var other = new Frame(1, 2, new byte[6]);
        Assert.Throws<ArgumentException>(() => FrameDistance.Compute([first, other]));
        Assert.Throws<ArgumentException>(() => FrameDistance.Compute([new float[6], new float[5]], 3));
        Assert.Empty(FrameDistance.Compute(Array.Empty<Frame>()));
    }
}
