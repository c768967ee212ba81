using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.Rda;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Autoencoder;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Rda;

public sealed class ShrinkTests
{
    [Fact]
    public void Shrink_is_the_soft_threshold_of_its_definition()
    {
        using var scope = NewDisposeScope();
        double[] values = [-0.5, -0.1, -0.05, 0, 0.02, 0.1, 0.3, 1];
        const double lambda = 0.1;

        var shrunk = RdaTrainer.Shrink(tensor(values), lambda).data<double>().ToArray();

        var expected = values.Select(v => Math.Abs(v) <= lambda ? 0 : v - (Math.Sign(v) * lambda)).ToArray();
        Assert.Equal(expected.Length, shrunk.Length);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(expected[i], shrunk[i], 12);
        }
    }
}

/// <summary>
/// One small robust deep autoencoder (32 px) trained once on normal frames of which every sixth
/// carries a magenta square (training data with outliers in it), and its untrained copy.
/// </summary>
public sealed class RdaFixture : IDisposable
{
    public const int Every = 6;
    public static readonly (int X, int Y, int Side) Square = (20, 2, 8);
    public static readonly RdaOptions Options = new() { Size = FamilyFrames.Size, Width = 8, Code = 32, Iterations = 4, Epochs = 5, Batch = 8, LearningRate = 3e-3, ColourJitter = false, Lambda = 0.1 };

    public RdaFixture()
    {
        var train = FamilyFrames.Train.Select((f, i) => i % Every == 0 ? TestFrames.WithSquare(f, Square.X, Square.Y, Square.Side, (250, 20, 250)) : f).ToArray();
        using var frames = FrameTensors.ToByteTensor(train, FamilyFrames.Size, FamilyFrames.Size);
        Trained = RdaTrainer.Train(frames, Options, new FitContext(CPU, Seed: 7));
        random.manual_seed(7);
        Untrained = ReconstructionDetector.Of(RdaTrainer.Name, new ConvAutoencoder(Options.Size, Options.Width, Options.Code), Options, CPU);
    }

    public RdaTrainer.Result Trained { get; }

    public ReconstructionDetector Untrained { get; }

    public void Dispose()
    {
        Trained.Detector.Dispose();
        Trained.Dispose();
        Untrained.Dispose();
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class RdaDetectorTests(RdaFixture fixture) : IClassFixture<RdaFixture>
{
    [Fact]
    public void Training_makes_a_pasted_square_stand_out_far_more_than_in_the_untrained_network()
    {
        var trained = FamilyFrames.Lift(fixture.Trained.Detector);
        var untrained = FamilyFrames.Lift(fixture.Untrained);

        Assert.True(trained > 1 && trained > untrained + 1, $"squares score {trained:P0} above normal frames trained, {untrained:P0} untrained");
    }

    [Fact]
    public void The_sparse_part_takes_the_squares_in_the_training_frames_and_little_else()
    {
        using var scope = NewDisposeScope();
        var magnitude = fixture.Trained.Sparse.abs().mean([1]); // [N, S, S]
        var inSquare = zeros(FamilyFrames.Size, FamilyFrames.Size, dtype: ScalarType.Bool);
        inSquare[TensorIndex.Slice(RdaFixture.Square.Y, RdaFixture.Square.Y + RdaFixture.Square.Side), TensorIndex.Slice(RdaFixture.Square.X, RdaFixture.Square.X + RdaFixture.Square.Side)] = tensor(true);
        var contaminated = magnitude.index_select(0, arange(0, magnitude.shape[0], RdaFixture.Every));

        var squareMean = contaminated.masked_select(inSquare).mean().item<float>();
        var elsewhere = contaminated.masked_select(inSquare.logical_not()).mean().item<float>();

        Assert.True(squareMean > 0.1 && squareMean > 20 * elsewhere, $"mean |S| {squareMean:F4} on the squares, {elsewhere:F4} elsewhere");
        Assert.True(fixture.Trained.SparseFraction < 0.1, $"{fixture.Trained.SparseFraction:P1} of S is not zero");
    }
}
