using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests;

public sealed class TorchSharpLoadTests
{
    [Fact]
    public void Forward_and_backward_pass_run_on_the_native_library()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 3, generator: new Generator(1));
        var w = ones(3, 2, requires_grad: true);
        var loss = x.matmul(w).pow(2).sum();
        loss.backward();
        Assert.NotNull(w.grad);
        // d/dw sum((xw)^2) = 2 x^T (x w)
        var expected = x.t().matmul(x.matmul(w.detach())) * 2;
        Assert.True(w.grad!.allclose(expected, rtol: 1e-5, atol: 1e-5));
    }
}
