using StreamAnomaly.Core.Data;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Models;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors;

public sealed class ModuleWeightsTests
{
    [Fact]
    public void Exported_weights_import_into_a_fresh_module_of_the_same_shape()
    {
        using var source = new ConvAutoencoder(32, width: 8, code: 16);
        using var target = new ConvAutoencoder(32, width: 8, code: 16);
        ModuleWeights.Import(target, ModuleWeights.Export(source), "m.sabundle", "autoencoder");
        using var input = rand(1, 3, 32, 32);
        source.eval();
        target.eval();
        using var expected = source.call(input);
        using var actual = target.call(input);
        Assert.True(expected.allclose(actual, rtol: 0, atol: 0));
    }

    [Fact]
    public void Weights_of_another_shape_are_refused_naming_the_bundle_and_the_detector()
    {
        using var source = new ConvAutoencoder(32, width: 8, code: 16);
        var target = new ConvAutoencoder(32, width: 16, code: 16);
        var error = Assert.Throws<InvalidDataFileException>(() => ModuleWeights.Import(target, ModuleWeights.Export(source), "m.sabundle", "autoencoder"));
        Assert.StartsWith("m.sabundle: corrupted model bundle (weights do not fit the autoencoder network", error.Message);
    }
}
