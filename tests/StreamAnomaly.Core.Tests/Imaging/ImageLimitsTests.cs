using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Tests.Imaging;

public sealed class ImageLimitsTests
{
    [Fact]
    public void An_8K_frame_is_within_the_default_limits() => Assert.Null(ImageLimits.Default.Check(7680, 4320));

    [Fact]
    public void A_side_above_8192_pixels_is_refused_by_default() =>
        Assert.Equal("the image declares 8193x16 pixels, above the limit of 8192 px per side", ImageLimits.Default.Check(8193, 16));

    [Fact]
    public void More_than_40_million_pixels_are_refused_by_default() =>
        Assert.Equal("the image declares 8000x6000 = 48,000,000 pixels, above the limit of 40,000,000", ImageLimits.Default.Check(8000, 6000));

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(ImageLimits.Default.Validate("Kafka:MaxImage"));

    [Fact]
    public void Invalid_limits_are_reported_under_their_setting_key() =>
        Assert.Equal(
            ["Kafka:MaxImage:MaxSide must be in 16..65535 pixels, got 0", "Kafka:MaxImage:MaxPixels must be in 256..500000000 pixels, got 600000000"],
            new ImageLimits { MaxSide = 0, MaxPixels = 600_000_000 }.Validate("Kafka:MaxImage"));
}
