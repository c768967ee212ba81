using StreamAnomaly.Core.Detection;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Vae;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Autoencoder;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Vae;

public sealed class VariationalAutoencoderTests
{
    [Fact]
    public void The_divergence_is_the_kl_of_a_diagonal_gaussian_from_the_standard_normal()
    {
        using var scope = NewDisposeScope();
        double[][] means = [[0, 0, 0], [1, -2, 0.5]];
        double[][] logVariances = [[0, 0, 0], [0.3, -1, 2]];

        var kl = VariationalAutoencoder.Divergence(tensor(means.SelectMany(r => r).ToArray(), [2, 3]), tensor(logVariances.SelectMany(r => r).ToArray(), [2, 3])).data<double>().ToArray();

        // KL(N(m, s^2) || N(0, 1)) = log(1 / s) + (s^2 + m^2) / 2 - 1 / 2, summed over independent dimensions
        var expected = means.Zip(logVariances, (m, v) => m.Zip(v, (mu, lv) => (-lv / 2) + ((Math.Exp(lv) + (mu * mu)) / 2) - 0.5).Sum()).ToArray();
        Assert.Equal(0.0, kl[0], 12);
        Assert.Equal(expected[1], kl[1], 12);
    }

    [Fact]
    public void A_sample_is_the_mean_plus_the_standard_deviation_times_the_noise()
    {
        using var scope = NewDisposeScope();
        var sample = VariationalAutoencoder.Sample(tensor(new[] { 1.0, -2.0 }), tensor(new[] { Math.Log(4), 0.0 }), tensor(new[] { 0.5, -1.0 })).data<double>().ToArray();

        Assert.Equal(2.0, sample[0], 12);
        Assert.Equal(-3.0, sample[1], 12);
    }

    [Fact]
    public void The_network_decodes_to_the_input_shape_in_unit_range_with_the_latent_heads_named()
    {
        using var model = new VariationalAutoencoder(32, width: 8, code: 16);
        using var scope = NewDisposeScope();

        var output = model.call(rand(2, 3, 32, 32));

        Assert.Equal(new long[] { 2, 3, 32, 32 }, output.shape);
        Assert.True(output.min().item<float>() >= 0f && output.max().item<float>() <= 1f);
        Assert.Contains("to_mean.weight", model.state_dict().Keys);
        Assert.Contains("to_log_variance.bias", model.state_dict().Keys);
    }
}

/// <summary>One small VAE (32 px) trained once at the default beta, and its untrained copy.</summary>
public sealed class VaeFixture : IDisposable
{
    public static readonly VaeOptions Options = new() { Size = FamilyFrames.Size, Width = 8, Code = 32, Epochs = 20, Batch = 8, LearningRate = 3e-3, ColourJitter = false };

    public VaeFixture()
    {
        using var frames = FrameTensors.ToByteTensor(FamilyFrames.Train, FamilyFrames.Size, FamilyFrames.Size);
        Trained = VaeTrainer.Train(frames, Options, new FitContext(CPU, Seed: 7));
        random.manual_seed(7);
        Untrained = VaeTrainer.Detector(new VariationalAutoencoder(Options.Size, Options.Width, Options.Code), Options, CPU);
    }

    public VaeTrainer.Result Trained { get; }

    public ReconstructionDetector Untrained { get; }

    public void Dispose()
    {
        Trained.Detector.Dispose();
        Untrained.Dispose();
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class VaeDetectorTests(VaeFixture fixture) : IClassFixture<VaeFixture>
{
    [Fact]
    public void Training_makes_a_pasted_square_stand_out_far_more_than_in_the_untrained_network()
    {
        var trained = FamilyFrames.Lift(fixture.Trained.Detector);
        var untrained = FamilyFrames.Lift(fixture.Untrained);

        Assert.True(trained > 1 && trained > untrained + 1, $"squares score {trained:P0} above normal frames trained, {untrained:P0} untrained");
    }

    [Fact]
    public void With_kl_the_score_grows_by_beta_times_the_mean_latents_divergence_over_three_and_the_map_still_sums_to_it()
    {
        var options = VaeFixture.Options with { Kl = true, Beta = 0.5 };
        using var withKl = (ReconstructionDetector)new VaeDefinition().Load(options, fixture.Trained.Detector.ExportWeights(), null, "vae.sabundle", CPU);
        var frames = FamilyFrames.Test().Anomalous[..3];
        double[] divergence;
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            var (mean, logVariance) = ((VariationalAutoencoder)withKl.Network).Encode(FrameTensors.ToBatch(frames, FamilyFrames.Size, FamilyFrames.Size, CPU));
            divergence = VariationalAutoencoder.Divergence(mean, logVariance).to_type(ScalarType.Float64).data<double>().ToArray();
        }

        var plain = fixture.Trained.Detector.ScoreSequence(frames);
        var scored = withKl.ScoreSequence(frames);

        for (var i = 0; i < frames.Length; i++)
        {
            Assert.True(divergence[i] > 0);
            Assert.Equal(plain[i].RawScore + (0.5 * divergence[i] / 3), scored[i].RawScore, 1e-3 * scored[i].RawScore);
            Assert.Equal(scored[i].Residual.Values.Sum(v => (double)v), scored[i].RawScore, 1e-3 * scored[i].RawScore);
        }
    }

    [Fact]
    public void A_larger_beta_pulls_the_posterior_toward_the_prior()
    {
        using var frames = FrameTensors.ToByteTensor(FamilyFrames.Train, FamilyFrames.Size, FamilyFrames.Size);
        var strong = VaeTrainer.Train(frames, VaeFixture.Options with { Beta = 1 }, new FitContext(CPU, Seed: 7));
        strong.Detector.Dispose();

        Assert.True(strong.FinalDivergence < fixture.Trained.FinalDivergence / 2, $"KL {strong.FinalDivergence} nats at beta 1 vs {fixture.Trained.FinalDivergence} at beta 0.01");
    }
}
