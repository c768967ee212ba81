using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Inr;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Inr;

public sealed class SirenTests
{
    [Fact]
    public void The_grid_holds_pixel_centres_in_minus_one_to_one_row_by_row_x_first()
    {
        using var grid = Siren.Grid(2, CPU);

        Assert.Equal([4L, 2L], grid.shape);
        Assert.Equal([-0.5f, -0.5f, 0.5f, -0.5f, -0.5f, 0.5f, 0.5f, 0.5f], grid.data<float>().ToArray());
    }

    [Fact]
    public void The_batched_forward_is_each_siren_written_out_layer_by_layer()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        using var a = new Siren(5, 2, 30, generator);
        using var b = new Siren(5, 2, 30, generator);
        var coordinates = Siren.Grid(4, CPU);
        var batched = a.Weights.Zip(b.Weights, static (x, y) => stack([x, y]).detach()).ToArray();

        var colours = Siren.Forward(batched, coordinates, 30);

        foreach (var (siren, index) in new[] { (a, 0), (b, 1) })
        {
            var w = siren.Weights;
            var h = coordinates;
            for (var layer = 0; layer < 2; layer++)
            {
                h = h.matmul(w[2 * layer].t()).add(w[(2 * layer) + 1], HeldScalars.One).mul(30.ToScalar()).sin();
            }

            var expected = h.matmul(w[4].t()).add(w[5], HeldScalars.One);
            Assert.True(colours[index].allclose(expected, rtol: 1e-5, atol: 1e-6), $"siren {index}");
        }
    }

    [Fact]
    public void Fit_takes_the_steps_torch_adam_takes()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(4);
        using var siren = new Siren(6, 2, 30, generator);
        var coordinates = Siren.Grid(4, CPU);
        var targets = rand([1, 16, 3], generator: generator).mul(HeldScalars.Two).sub(HeldScalars.One);
        var batched = siren.Replicate(1);

        Siren.Fit(batched, coordinates, targets, 30, steps: 3, rate: 1e-2);

        using var optimizer = optim.Adam(siren.parameters(), 1e-2);
        for (var step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            Siren.Loss(siren.Weights.Select(static w => (Tensor)w.unsqueeze(0)).ToArray(), coordinates, targets, 30).backward();
            optimizer.step();
        }

        for (var i = 0; i < batched.Length; i++)
        {
            Assert.True(batched[i].squeeze(0).allclose(siren.Weights[i], rtol: 1e-4, atol: 1e-6), $"weight {i}");
        }
    }

    [Fact]
    public void Frames_fitted_together_end_as_each_fitted_alone()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        using var siren = new Siren(8, 2, 30, generator);
        var coordinates = Siren.Grid(8, CPU);
        var targets = Siren.Targets(FrameTensors.ToUnitFloat(FrameTensors.ToByteTensor(TestFrames.Normal(8, 3), 8, 8), CPU));

        var together = siren.Replicate(3);
        Siren.Fit(together, coordinates, targets, 30, steps: 5, rate: 1e-3);
        var jointResidual = Siren.Residual(together, coordinates, targets, 30);

        for (var i = 0; i < 3; i++)
        {
            var alone = siren.Replicate(1);
            Siren.Fit(alone, coordinates, targets.narrow(0, i, 1), 30, steps: 5, rate: 1e-3);
            Assert.True(Siren.Residual(alone, coordinates, targets.narrow(0, i, 1), 30).allclose(jointResidual.narrow(0, i, 1), rtol: 1e-4, atol: 1e-7), $"frame {i}");
        }
    }
}

/// <summary>One small INR detector (32 px) fitted once on periodic background clips.</summary>
public sealed class InrFixture : IDisposable
{
    public const int Size = 32;

    public static readonly InrOptions Options = new() { Size = Size, Hidden = 32, Layers = 2, Steps = 10, PrefitSteps = 300, MetaIterations = 20, MetaBatch = 4, Peak = 4 };

    public InrFixture()
    {
        var clips = new[] { 0.0, 0.5 }.Select((start, c) => (ILabelledClip)new FrameClip($"c{c}", PeriodicFrames.Clip(Size, 30, 10, start, seed: c))).ToArray();
        var progress = new ProgressRecorder();
        Fitted = new InrDefinition().Fit(Options, clips, TrainingFrames.AllNormal, new FitContext(CPU, Seed: 1, progress));
        Detector = (InrDetector)Fitted.Detector;
        Progress = progress.Reports;
    }

    public FittedDetector Fitted { get; }

    public InrDetector Detector { get; }

    public IReadOnlyList<Training.TrainingProgress> Progress { get; }

    public void Dispose() => Detector.Dispose();
}

public sealed class InrDetectorTests(InrFixture fixture) : IClassFixture<InrFixture>
{
    private const int Size = InrFixture.Size;

    private static (Frame[] Normal, Frame[] Anomalous) Probe()
    {
        var normal = PeriodicFrames.Clip(Size, 12, 10, 0.25, seed: 7);
        var anomalous = normal.Select((f, i) => TestFrames.WithSquare(f, 2 + (i * 2 % 20), 4 + (i % 3), 6)).ToArray();
        return (normal, anomalous);
    }

    private static double Auroc(IAnomalyDetector detector, Frame[] normal, Frame[] anomalous)
    {
        var scores = detector.ScoreSequence([.. normal, .. anomalous]).Select(static s => s.RawScore).ToArray();
        return BinaryMetrics.Auroc(scores, [.. normal.Select(static _ => 0), .. anomalous.Select(static _ => 1)]);
    }

    [Fact]
    public void The_learned_initialisation_separates_foreign_squares_far_better_than_a_fresh_siren()
    {
        var (normal, anomalous) = Probe();
        using var generator = new Generator(1);
        using var untrained = new InrDetector(new Siren(InrFixture.Options.Hidden, InrFixture.Options.Layers, InrFixture.Options.Omega, generator), InrFixture.Options, CPU);

        var trained = Auroc(fixture.Detector, normal, anomalous);
        var fresh = Auroc(untrained, normal, anomalous);

        Assert.True(trained >= 0.95 && trained > fresh + 0.2, $"trained AUROC {trained}, fresh SIREN {fresh}");
    }

    [Fact]
    public void The_residual_map_peaks_on_the_foreign_square()
    {
        var frame = TestFrames.WithSquare(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7)[0], 4, 4, 6);

        var map = fixture.Detector.ScoreSequence([frame])[0].Residual;

        var peak = Array.IndexOf(map.Values, map.Values.Max());
        Assert.InRange(peak % Size, 4, 9);
        Assert.InRange(peak / Size, 4, 9);
    }

    [Fact]
    public void Reptile_lowers_the_residual_left_after_the_budget()
    {
        var meta = fixture.Progress.Where(static p => p.Stage == "inr-reptile").Select(static p => p.Loss).ToArray();

        Assert.Equal(InrFixture.Options.MetaIterations, meta.Length);
        Assert.True(meta[^5..].Average() < meta[..5].Average(), $"first {meta[..5].Average()}, last {meta[^5..].Average()}");
    }

    [Fact]
    public void More_steps_leave_less_residual_on_normal_frames()
    {
        var normal = PeriodicFrames.Clip(Size, 4, 10, 0.25, seed: 7);
        using var batch = FrameTensors.ToBatch(normal, Size, Size, CPU);
        using var longer = new InrDetector(CloneInitialisation(), InrFixture.Options with { Steps = 40 }, CPU);

        using var budget = fixture.Detector.Residuals(batch);
        using var more = longer.Residuals(batch);

        Assert.True(more.sum().item<float>() < budget.sum().item<float>() * 0.8, $"{more.sum().item<float>()} vs {budget.sum().item<float>()}");
    }

    [Fact]
    public void Facts_name_the_frames_and_both_training_stages()
    {
        Assert.Equal("60", fixture.Fitted.Facts["trainFrames"]);
        Assert.Equal("20", fixture.Fitted.Facts["metaIterations"]);
        Assert.True(double.Parse(fixture.Fitted.Facts["finalLoss"], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void A_peak_window_larger_than_the_grid_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new InrOptions { Size = 32, Peak = 40 }));

        Assert.Equal("option 'peak': window 40 must fit the grid (32 px)", error.Message);
    }

    private Siren CloneInitialisation()
    {
        var copy = new Siren(InrFixture.Options.Hidden, InrFixture.Options.Layers, InrFixture.Options.Omega);
        using var reader = new BinaryReader(new MemoryStream(fixture.Detector.ExportWeights()));
        copy.load(reader);
        return copy;
    }
}
