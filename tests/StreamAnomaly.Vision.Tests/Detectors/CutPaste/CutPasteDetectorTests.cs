using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Evaluation;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.CutPaste;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Models.Pretrained;
using StreamAnomaly.Vision.Tests.Detectors.Integrated.Network;
using StreamAnomaly.Vision.Tests.Detectors.Temporal;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.CutPaste;

/// <summary>One small CutPaste model (128 px) fitted once on periodic background clips, and the same pipeline with the head left untrained.</summary>
public sealed class CutPasteFixture : IDisposable
{
    public const int Size = 128;
    public const int Seed = 2;

    public static readonly CutPasteOptions Options = new() { Size = Size, Hidden = 64, Embedding = 16, Epochs = 30, Batch = 32 };

    public CutPasteFixture()
    {
        var frames = TrainFrames();
        Detector = Fit(frames, trainHead: true, out var facts);
        Facts = facts;
        Untrained = Fit(frames, trainHead: false, out _);
    }

    public CutPasteDetector Detector { get; }

    /// <summary>The same backbone, head initialisation and Gaussian fit, without the head's training.</summary>
    public CutPasteDetector Untrained { get; }

    public IReadOnlyDictionary<string, string> Facts { get; }

    public static Frame[] TrainFrames() => new[] { 0.0, 0.5 }.SelectMany((start, c) => PeriodicFrames.Clip(Size, 30, 10, start, seed: c)).ToArray();

    public void Dispose()
    {
        Detector.Dispose();
        Untrained.Dispose();
    }

    private static CutPasteDetector Fit(Frame[] frames, bool trainHead, out Dictionary<string, string> facts)
    {
        var backbone = PretrainedResNet18.Load();
        (var model, facts) = CutPasteDefinition.Train(backbone, Options, frames, "test", new FitContext(CPU, Seed), trainHead);
        return new CutPasteDetector(backbone, model, Options, CPU);
    }
}

[Collection(nameof(SeededTorchCollection))]
public sealed class CutPasteDetectorTests(CutPasteFixture fixture) : IClassFixture<CutPasteFixture>
{
    private const int Size = CutPasteFixture.Size;

    /// <summary>Share of fresh frames (unseen phases) and fresh CutPaste and scar copies of them that the head classifies right.</summary>
    private static double HeldOutAccuracy(CutPasteDetector detector)
    {
        var random = new Random(99);
        var images = new List<byte[]>();
        var labels = new List<long>();
        foreach (var frame in PeriodicFrames.Clip(Size, 20, 10, 0.25, seed: 7))
        {
            var bgr = FrameTensors.ResizeBgr(frame, Size, Size);
            foreach (var kind in Enum.GetValues<CutPasteClass>())
            {
                images.Add(kind == CutPasteClass.Normal ? bgr : CutPasteAugment.Apply(bgr, Size, CutPasteAugment.Draw(kind, Size, random, jitter: true)));
                labels.Add((long)kind);
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var predicted = detector.Model.Head.Classify(detector.Embed(CutPasteDetector.Planar(images, Size))).argmax(1);
        return predicted.eq(tensor(labels.ToArray())).to_type(ScalarType.Float64).mean().item<double>();
    }

    private static double Auroc(CutPasteDetector detector, int side)
    {
        var normal = PeriodicFrames.Clip(Size, 20, 10, 0.25, seed: 7);
        var anomalous = normal.Select((f, i) => TestFrames.WithSquare(f, 8 + (i % 5 * 16), 12 + (i % 3 * 24), side)).ToArray();
        var scores = detector.ScoreSequence([.. normal, .. anomalous]).Select(s => s.RawScore).ToArray();
        return BinaryMetrics.Auroc(scores, [.. normal.Select(_ => 0), .. anomalous.Select(_ => 1)]);
    }

    [Fact]
    public void The_head_learns_to_tell_fresh_pasted_pieces_from_normal_frames()
    {
        var trained = HeldOutAccuracy(fixture.Detector);
        var untrained = HeldOutAccuracy(fixture.Untrained);

        Assert.True(trained >= 0.75 && trained > untrained + 0.3, $"held-out accuracy trained {trained:F3}, untrained {untrained:F3}");
    }

    [Fact]
    public void Training_separates_frames_with_a_tiny_foreign_square_better_than_the_untrained_head()
    {
        var trained = Auroc(fixture.Detector, side: 2);
        var untrained = Auroc(fixture.Untrained, side: 2);

        Assert.True(trained >= 0.9 && trained > untrained + 0.1, $"AUROC of 2 px squares: trained {trained:F3}, untrained {untrained:F3}");
    }

    [Fact]
    public void Every_training_frame_and_one_copy_per_defect_go_into_the_fit()
    {
        Assert.Equal("60", fixture.Facts["trainFrames"]);
        Assert.Equal("120", fixture.Facts["augmentedFrames"]);
    }

    [Fact]
    public void Its_map_is_uniform_and_fusion_takes_the_score_as_a_peak()
    {
        var score = fixture.Detector.ScoreSequence(PeriodicFrames.Clip(Size, 1, 10, 0.25, seed: 7))[0];

        Assert.Equal(ScoreReduction.Peak, score.Reduction);
        Assert.All(score.Residual.Values, v => Assert.Equal(score.RawScore, v, 4));
    }

    [Fact]
    public void Fewer_than_two_training_frames_are_refused()
    {
        using var backbone = PretrainedResNet18.Load();

        var error = Assert.Throws<ArgumentException>(() => CutPasteDefinition.Train(backbone, CutPasteFixture.Options, CutPasteFixture.TrainFrames().Take(1), "background", new FitContext(CPU)));

        Assert.Equal("cutpaste needs two or more background frames, got 1", error.Message);
    }

    [Fact]
    public void A_size_not_a_multiple_of_32_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new CutPasteOptions { Size = 100 }));

        Assert.Equal("option 'size': must be a multiple of 32", error.Message);
    }

    [Fact]
    public void An_embedding_wider_than_the_hidden_layer_is_refused_naming_both()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => DetectorOptionsJson.Validate(new CutPasteOptions { Hidden = 64, Embedding = 128 }));

        Assert.Equal("option 'embedding': must not exceed hidden (64)", error.Message);
    }
}
