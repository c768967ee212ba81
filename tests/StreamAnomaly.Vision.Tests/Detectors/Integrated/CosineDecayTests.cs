using StreamAnomaly.Vision.Detectors.Integrated;
using StreamAnomaly.Vision.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Integrated;

public sealed class CosineDecayTests
{
    private const double Rate = 0.1;

    /// <summary>Runs the shared loop over 10 items in batches of 4 (3 steps an epoch) for two epochs with the decay, and returns the rate left.</summary>
    private static double RateAfterTraining(double finalFraction)
    {
        using var weight = nn.Parameter(ones(1));
        using var optimizer = optim.Adam([weight], Rate);
        var scheduler = IntegratedTrainer.CosineDecay(optimizer, steps: 6, finalFraction);
        using var generator = new Generator(0);
        MiniBatchLoop.Run(optimizer, 10, 4, 2, "test", generator, null, CancellationToken.None, picks => weight.square().sum(), scheduler);
        return optimizer.ParamGroups.Single().LearningRate;
    }

    [Fact]
    public void The_rate_reaches_the_final_fraction_at_the_last_step()
    {
        Assert.Equal(Rate * 0.01, RateAfterTraining(0.01), 1e-9);
    }

    [Fact]
    public void Halfway_the_rate_lies_halfway_between_start_and_end()
    {
        using var weight = nn.Parameter(ones(1));
        using var optimizer = optim.Adam([weight], Rate);
        var scheduler = IntegratedTrainer.CosineDecay(optimizer, steps: 6, 0.01)!;
        for (var step = 0; step < 3; step++)
        {
            optimizer.step();
            scheduler.step();
        }

        Assert.Equal((Rate + (Rate * 0.01)) / 2, optimizer.ParamGroups.Single().LearningRate, 1e-9);
    }

    [Fact]
    public void A_fraction_of_one_keeps_the_rate_constant()
    {
        Assert.Equal(Rate, RateAfterTraining(1), 1e-12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void A_fraction_outside_zero_to_one_is_refused(double fraction)
    {
        using var weight = nn.Parameter(ones(1));
        using var optimizer = optim.Adam([weight], Rate);

        Assert.Throws<ArgumentOutOfRangeException>(() => IntegratedTrainer.CosineDecay(optimizer, 6, fraction));
    }
}
