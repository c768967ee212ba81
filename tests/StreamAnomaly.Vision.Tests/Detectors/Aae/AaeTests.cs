using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Aae;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Autoencoder;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Aae;

/// <summary>One small adversarial autoencoder (32 px) trained once, the same network trained without the adversarial term, and an untrained copy.</summary>
public sealed class AaeFixture : IDisposable
{
    public static readonly AaeOptions Options = new() { Size = FamilyFrames.Size, Width = 8, Code = 16, Hidden = 64, Epochs = 20, Batch = 8, LearningRate = 3e-3, ColourJitter = false };

    public AaeFixture()
    {
        using var frames = FrameTensors.ToByteTensor(FamilyFrames.Train, FamilyFrames.Size, FamilyFrames.Size);
        Trained = AaeTrainer.Train(frames, Options, new FitContext(CPU, Seed: 7));
        Plain = AaeTrainer.Train(frames, Options with { Adversarial = 0 }, new FitContext(CPU, Seed: 7));
        random.manual_seed(7);
        Untrained = AaeTrainer.Detector(new ConvAutoencoder(Options.Size, Options.Width, Options.Code), Options, CPU);
    }

    public AaeTrainer.Result Trained { get; }

    public AaeTrainer.Result Plain { get; }

    public ReconstructionDetector Untrained { get; }

    public void Dispose()
    {
        Trained.Detector.Dispose();
        Plain.Detector.Dispose();
        Untrained.Dispose();
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class AaeDetectorTests(AaeFixture fixture) : IClassFixture<AaeFixture>
{
    [Fact]
    public void Training_makes_a_pasted_square_stand_out_far_more_than_in_the_untrained_network()
    {
        var trained = FamilyFrames.Lift(fixture.Trained.Detector);
        var untrained = FamilyFrames.Lift(fixture.Untrained);

        Assert.True(trained > 1 && trained > untrained + 1, $"squares score {trained:P0} above normal frames trained, {untrained:P0} untrained");
    }

    [Fact]
    public void The_encoder_fights_the_discriminator_only_with_the_adversarial_term()
    {
        // without the term the discriminator soon tells codes from prior draws (loss near 0); with it
        // the encoder keeps moving its codes toward the prior, and the discriminator's loss stays high
        // (2 ln 2 = 1.386 when it cannot tell them apart at all)
        var adversarial = fixture.Trained.FinalDiscriminatorLoss;
        var plain = fixture.Plain.FinalDiscriminatorLoss;

        Assert.True(adversarial > 0.1 && adversarial > 10 * plain, $"discriminator loss {adversarial:F3} with the adversarial term, {plain:F3} without");
    }

    [Fact]
    public void The_bundle_holds_the_autoencoder_alone_and_loads_as_the_baselines_network()
    {
        using var loaded = (ReconstructionDetector)new AaeDefinition().Load(AaeFixture.Options, fixture.Trained.Detector.ExportWeights(), null, "aae.sabundle", CPU);
        var frames = FamilyFrames.Test().Anomalous[..2];

        Assert.IsType<ConvAutoencoder>(loaded.Network);
        Assert.DoesNotContain(loaded.Network.state_dict().Keys, k => k.StartsWith("layers", StringComparison.Ordinal));
        Assert.Equal(fixture.Trained.Detector.ScoreSequence(frames).Select(s => s.RawScore), loaded.ScoreSequence(frames).Select(s => s.RawScore));
    }
}
