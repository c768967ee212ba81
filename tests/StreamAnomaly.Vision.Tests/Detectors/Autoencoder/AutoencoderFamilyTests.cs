using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;

namespace StreamAnomaly.Vision.Tests.Detectors.Autoencoder;

/// <summary>What the autoencoder family's tests share: the frames they learn from and how a trained model is told from its untrained copy.</summary>
internal static class FamilyFrames
{
    public const int Size = 32;

    /// <summary>Normal training frames: the textured gradient scene.</summary>
    public static Frame[] Train => TestFrames.Normal(Size, 48);

    /// <summary>Held-out normal frames and the same frames with a green square pasted in.</summary>
    public static (Frame[] Normal, Frame[] Anomalous) Test()
    {
        var normal = TestFrames.Normal(Size, 12, seed: 1000);
        return (normal, normal.Select(f => TestFrames.WithSquare(f, 10, 12, 8)).ToArray());
    }

    /// <summary>How much higher the squares score than the normal frames on average, relative to the normal mean (0 = no separation).</summary>
    public static double Lift(IAnomalyDetector detector)
    {
        var (normal, anomalous) = Test();
        var normalMean = detector.ScoreSequence(normal).Average(s => s.RawScore);
        return (detector.ScoreSequence(anomalous).Average(s => s.RawScore) / normalMean) - 1;
    }
}

public sealed class AutoencoderFamilyOptionsTests
{
    /// <summary>Every catalog detector of the family.</summary>
    public static TheoryData<string> Family => new(DetectorCatalog.All.Where(static d => d.Defaults is AutoencoderFamilyOptions).Select(static d => d.Name));

    private static AutoencoderFamilyOptions Defaults(string name) => (AutoencoderFamilyOptions)DetectorCatalog.Get(name).Defaults;

    [Theory]
    [MemberData(nameof(Family))]
    public void A_size_not_a_multiple_of_16_is_refused_naming_it(string name)
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(Defaults(name) with { Size = 100 }));

        Assert.Equal("option 'size': must be a multiple of 16", error.Message);
    }

    [Theory]
    [MemberData(nameof(Family))]
    public void A_peak_window_larger_than_the_input_is_refused_naming_both(string name)
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(Defaults(name) with { Size = 32, Peak = 48 }));

        Assert.Equal("option 'peak': window 48 must fit the input (32 px)", error.Message);
    }

    [Theory]
    [MemberData(nameof(Family))]
    public void A_bottleneck_beyond_the_layer_limit_is_refused_naming_the_code(string name)
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(Defaults(name) with { Size = 1024, Width = 256, Code = 65536 }));

        Assert.StartsWith("option 'code': the bottleneck would hold 137,438,953,472 parameters", error.Message);
    }

    [Theory]
    [MemberData(nameof(Family))]
    public void Its_defaults_are_the_baselines_128_px_and_code_at_half_its_width(string name)
    {
        var defaults = Defaults(name);

        Assert.Equal((128, 16, 512, 0), (defaults.Size, defaults.Width, defaults.Code, defaults.Peak));
    }
}
