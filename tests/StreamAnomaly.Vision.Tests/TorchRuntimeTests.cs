using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests;

/// <summary>
/// Guards <see cref="TorchRuntime"/>: libtorch's oneDNN runs with the instruction-set ceiling under
/// which it is exact on the machines this project is built and tested on.
/// </summary>
public sealed class TorchRuntimeTests
{
    /// <summary>Applies the settings before any test of this assembly touches libtorch.</summary>
    [ModuleInitializer]
    internal static void ConfigureTorchFirst() => TorchRuntime.Configure();

    [Fact]
    public void The_oneDNN_ceiling_is_the_default_unless_the_environment_names_another()
    {
        Assert.Equal(Environment.GetEnvironmentVariable(TorchRuntime.OneDnnIsaVariable) ?? TorchRuntime.DefaultOneDnnIsa, TorchRuntime.OneDnnIsa);
    }

    /// <summary>With oneDNN's AVX-512 kernels, 14-29 of 30 runs of this gradient differed from the first.</summary>
    [Fact]
    public void A_strided_conv3d_gives_the_same_input_gradient_on_every_run()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(11);
        var input = randn([2, 3, 8, 32, 32], generator: generator);
        var weight = randn([4, 3, 3, 7, 7], generator: generator).mul_(0.1);

        Tensor Gradient()
        {
            var x = input.detach().requires_grad_();
            nn.functional.conv3d(x, weight, strides: [1, 2, 2], padding: [1, 3, 3]).square().sum().backward();
            return x.grad!.detach().clone();
        }

        var first = Gradient();
        Assert.True(first.isfinite().all().item<bool>());
        for (var run = 1; run < 20; run++)
        {
            var difference = Gradient().sub(first).abs().max().item<float>();
            Assert.True(difference <= 1e-5f * first.abs().max().item<float>(), $"run {run} differs from the first by {difference}");
        }
    }
}
