using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Ganomaly;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Ganomaly;

/// <summary>One small GANomaly (32 px) trained once on periodic background clips, and the same network with its initial weights.</summary>
public sealed class GanomalyFixture : IDisposable
{
    public const int Size = 32;
    public const int Seed = 3;

    public static readonly GanomalyOptions Options = new() { Size = Size, Width = 8, Latent = 16, Epochs = 15, Batch = 8, LearningRate = 1e-3, ColourJitter = false };

    public GanomalyFixture()
    {
        var frames = new[] { 0.0, 0.5 }.SelectMany((start, c) => PeriodicFrames.Clip(Size, 30, 10, start, seed: c)).ToArray();
        using var train = FrameTensors.ToByteTensor(frames, Size, Size);
        var progress = new ProgressRecorder();
        (Detector, Losses) = GanomalyTrainer.Train(train, Options, new FitContext(CPU, Seed, progress));
        Progress = progress.Reports;
        random.manual_seed(Seed);
        Untrained = new GanomalyDetector(new GanomalyGenerator(Size, Options.Width, Options.Latent), Options, CPU);
    }

    public GanomalyDetector Detector { get; }

    /// <summary>The same network as <see cref="Detector"/> before training (same seed, initial weights).</summary>
    public GanomalyDetector Untrained { get; }

    public GanomalyLosses Losses { get; }

    public IReadOnlyList<TrainingProgress> Progress { get; }

    public void Dispose()
    {
        Detector.Dispose();
        Untrained.Dispose();
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class GanomalyDetectorTests(GanomalyFixture fixture) : IClassFixture<GanomalyFixture>
{
    private const int Size = GanomalyFixture.Size;

    private static (Frame[] Normal, Frame[] Anomalous) TestSet()
    {
        var normal = PeriodicFrames.Clip(Size, 20, 10, 0.25, seed: 7);
        var anomalous = normal.Select((f, i) => TestFrames.WithSquare(f, 4 + (i % 5 * 3), 2 + (i % 3 * 4), 10)).ToArray();
        return (normal, anomalous);
    }

    private static double Auroc(GanomalyDetector detector)
    {
        var (normal, anomalous) = TestSet();
        var scores = detector.ScoreSequence([.. normal, .. anomalous]).Select(s => s.RawScore).ToArray();
        return BinaryMetrics.Auroc(scores, [.. normal.Select(_ => 0), .. anomalous.Select(_ => 1)]);
    }

    [Fact]
    public void Training_separates_frames_with_a_foreign_square_far_better_than_the_initial_weights_do()
    {
        var trained = Auroc(fixture.Detector);
        var untrained = Auroc(fixture.Untrained);

        Assert.True(trained >= 0.85 && trained > untrained + 0.3, $"AUROC trained {trained:F3}, untrained {untrained:F3}");
    }

    [Fact]
    public void Training_lowers_the_generator_loss()
    {
        var epochLosses = fixture.Progress.Where(p => p.EpochDone).Select(p => p.Loss).ToArray();

        Assert.Equal(GanomalyFixture.Options.Epochs, epochLosses.Length);
        Assert.True(epochLosses[^1] < epochLosses[0] / 2, $"generator loss went from {epochLosses[0]} to {epochLosses[^1]}");
        Assert.Equal(epochLosses[^1], fixture.Losses.Generator, 9);
    }

    [Fact]
    public void The_generator_loss_is_the_weighted_sum_of_its_three_terms()
    {
        var (losses, options) = (fixture.Losses, GanomalyFixture.Options);

        var weighted = (options.AdversarialWeight * losses.Adversarial) + (options.ContextualWeight * losses.Contextual) + (options.EncoderWeight * losses.Encoder);

        Assert.Equal(weighted, losses.Generator, 4);
    }

    [Fact]
    public void The_score_is_the_squared_distance_between_the_code_of_the_frame_and_that_of_its_reconstruction()
    {
        var frames = PeriodicFrames.Clip(Size, 3, 10, 0.1, seed: 11);
        var scores = fixture.Detector.ScoreSequence(frames).Select(s => s.RawScore).ToArray();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var output = fixture.Detector.Model.call(FrameTensors.ToBatch(frames, Size, Size, CPU));
        var z = output.Latent.to_type(ScalarType.Float64).data<double>().ToArray();
        var zHat = output.ReconstructionLatent.to_type(ScalarType.Float64).data<double>().ToArray();
        var latent = GanomalyFixture.Options.Latent;
        for (var i = 0; i < frames.Length; i++)
        {
            var expected = Enumerable.Range(i * latent, latent).Sum(j => (z[j] - zHat[j]) * (z[j] - zHat[j]));
            Assert.Equal(expected, scores[i], expected * 1e-5);
        }
    }

    [Fact]
    public void Its_map_is_uniform_and_fusion_takes_the_score_as_a_peak()
    {
        var score = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7))[0];

        Assert.Equal(ScoreReduction.Peak, score.Reduction);
        Assert.All(score.Residual.Values, v => Assert.Equal(score.RawScore, v, 4));
    }

    [Fact]
    public void A_size_not_a_multiple_of_16_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new GanomalyOptions { Size = 40 }));

        Assert.Equal("option 'size': must be a multiple of 16", error.Message);
    }

    [Fact]
    public void Three_loss_weights_of_zero_are_refused()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new GanomalyOptions { AdversarialWeight = 0, ContextualWeight = 0, EncoderWeight = 0 }));

        Assert.Equal("option 'contextualWeight': the three loss weights cannot all be 0", error.Message);
    }

    [Fact]
    public void A_latent_layer_too_large_to_build_is_refused_naming_the_latent_option()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new GanomalyOptions { Size = 1024, Width = 256, Latent = 65536 }));

        Assert.StartsWith("option 'latent': the latent layer would hold 137,438,953,472 parameters", error.Message);
    }
}
