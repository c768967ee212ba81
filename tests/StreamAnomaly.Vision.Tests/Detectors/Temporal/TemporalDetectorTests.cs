using StreamAnomaly.Core.Bundles;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Temporal;

/// <summary>
/// A synthetic periodic "machine": a bright block going round a loop with a jittered period over a
/// textured background with noise; optionally a dark "person" block crossing the top rows.
/// </summary>
internal static class PeriodicFrames
{
    /// <summary>Phase in [0, 1) of frame <paramref name="i"/> for a clip starting at phase <paramref name="start"/>.</summary>
    public static double Phase(int i, double period, double start) => ((start + (i / period)) % 1 + 1) % 1;

    public static Frame[] Clip(int size, int count, double period, double start, int seed, bool person = false)
    {
        var random = new Random(seed);
        var frames = new Frame[count];
        for (var i = 0; i < count; i++)
        {
            var bgr = new byte[size * size * 3];
            var angle = 2 * Math.PI * Phase(i, period, start);
            double cx = (size / 2.0) + (size * 0.25 * Math.Cos(angle)), cy = (size * 0.6) + (size * 0.2 * Math.Sin(angle));
            var side = size / 5;
            var px = ((i * 2) % (size + side)) - side;
            for (var y = 0; y < size; y++)
            {
                for (var x = 0; x < size; x++)
                {
                    var k = ((y * size) + x) * 3;
                    var inMachine = Math.Abs(x - cx) < side / 2.0 && Math.Abs(y - cy) < side / 2.0;
                    var inPerson = person && y < size / 4 && x >= px && x < px + side;
                    var noise = random.Next(-3, 4);
                    bgr[k] = (byte)Math.Clamp(inMachine ? 230 : inPerson ? 20 : 60 + x + noise, 0, 255);
                    bgr[k + 1] = (byte)Math.Clamp(inMachine ? 200 : inPerson ? 30 : 80 + y + noise, 0, 255);
                    bgr[k + 2] = (byte)Math.Clamp(inMachine ? 40 : inPerson ? 160 : 100 + noise, 0, 255);
                }
            }

            frames[i] = new Frame(size, size, bgr);
        }

        return frames;
    }
}

/// <summary>One tiny temporal detector trained once (32 px, T = 4, C = 4) and shared by the tests that only read it.</summary>
public sealed class TrainedTemporalFixture : IDisposable
{
    public const int Size = 32;
    public const double Period = 10;

    public TrainedTemporalFixture()
    {
        var clips = new[] { 0.0, 0.3, 0.7 }
            .Select((start, c) => FrameTensors.ToByteTensor(PeriodicFrames.Clip(Size, 40, Period, start, seed: c), Size, Size))
            .ToArray();
        var progress = new ProgressRecorder();
        try
        {
            var options = new TemporalOptions
            {
                Size = Size, Window = 4, Partitions = 4, AutoencoderWidth = 4, AutoencoderHidden = 8, AutoencoderCode = 64, MaskWidthDivisor = 16, CamLayers = 2, CamThreshold = 0.1, CamWindow = 3,
                Epochs = 3, MaskEpochs = 3, Batch = 8, LearningRate = 3e-3, Transition = 1,
            };
            Detector = TemporalTrainer.Train(clips, options, new FitContext(CPU, Seed: 3, progress)).Detector;
        }
        finally
        {
            foreach (var clip in clips)
            {
                clip.Dispose();
            }
        }

        Progress = progress.Reports;
    }

    public TemporalDetector Detector { get; }

    public IReadOnlyList<TrainingProgress> Progress { get; }

    public void Dispose() => Detector.Dispose();
}

public sealed class TemporalDetectorTests(TrainedTemporalFixture fixture) : IClassFixture<TrainedTemporalFixture>
{
    private const int Size = TrainedTemporalFixture.Size;

    private static Frame[] Sequence(int count, int seed = 50, bool person = false) =>
        PeriodicFrames.Clip(Size, count, TrainedTemporalFixture.Period, 0.1, seed, person);

    /// <summary>Left half of the picture is the region of interest.</summary>
    private static BinaryMask LeftHalf(int size) =>
        new(size, size, Enumerable.Range(0, size * size).Select(i => i % size < size / 2).ToArray());

    [Fact]
    public void Training_reports_both_stages_and_records_the_cycle()
    {
        Assert.Contains(fixture.Progress, p => p.Stage == TemporalTrainer.AutoencoderStage && p.EpochDone && p.Epoch == 3);
        Assert.Contains(fixture.Progress, p => p.Stage == TemporalTrainer.MaskStage && p.EpochDone && p.Epoch == 3);
        Assert.InRange(fixture.Detector.Cycle.Period, 9.5, 10.5);
        Assert.Equal(1, fixture.Detector.Cycle.Transition);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(1)]
    public void One_score_per_frame_with_maps_at_the_input_size(int count)
    {
        var variants = fixture.Detector.ScoreVariants(Sequence(count), ScoringContext.None);
        Assert.Null(variants[2]);
        foreach (var scores in variants.Take(2).Select(v => v!))
        {
            Assert.Equal(count, scores.Count);
            Assert.All(scores, s => Assert.Equal((Size, Size), (s.Residual.Width, s.Residual.Height)));
            Assert.All(scores, s => Assert.True(double.IsFinite(s.RawScore) && s.RawScore >= 0));
            Assert.All(scores, s => Assert.Equal(s.Residual.Values.Sum(v => (double)v), s.RawScore, 1e-3));
        }

        Assert.Empty(fixture.Detector.ScoreSequence([]));
    }

    [Fact]
    public void Frame_t_is_predicted_from_the_T_minus_1_frames_before_it()
    {
        var frames = Sequence(10);
        IReadOnlyList<RawFrameScore> Unmasked(Frame[] part) => fixture.Detector.ScoreAll(part, null).Select(static s => s.None).ToArray();
        var whole = Unmasked(frames);
        var window = Unmasked(frames[4..8]);  // frame 7 and the T - 1 = 3 frames before it
        var longer = Unmasked(frames[2..8]);  // more history than T - 1 is not used
        var first = Unmasked(frames[..1]);    // frame 0, predicted from itself
        Assert.Equal(whole[7].RawScore, window[3].RawScore, 1e-6 * whole[7].RawScore);
        Assert.Equal(whole[7].RawScore, longer[5].RawScore, 1e-6 * whole[7].RawScore);
        Assert.Equal(whole[2].RawScore, fixture.Detector.ScoreAll(frames[..4], null)[2].None.RawScore, 1e-6 * whole[2].RawScore);
        Assert.Equal(whole[0].RawScore, first[0].RawScore, 1e-6 * whole[0].RawScore);
    }

    [Fact]
    public void A_peak_detector_tells_fusion_its_score_is_a_peak_and_the_paper_s_sum_that_it_is_a_sum()
    {
        var peak = new TemporalDetector(fixture.Detector.Networks, fixture.Detector.Options with { Peak = 5 }, fixture.Detector.Cycle, CPU);
        var frames = Sequence(3);

        Assert.All(peak.ScoreAll(frames, null), s => Assert.Equal(ScoreReduction.Peak, s.None.Reduction));
        Assert.All(fixture.Detector.ScoreAll(frames, null), s => Assert.Equal(ScoreReduction.Sum, s.None.Reduction));
    }

    [Fact]
    public void A_peak_detector_scores_the_largest_k_by_k_window_of_the_same_residual()
    {
        const int k = 5;
        var peak = new TemporalDetector(fixture.Detector.Networks, fixture.Detector.Options with { Peak = k }, fixture.Detector.Cycle, CPU);
        {
            var frames = Sequence(6);
            var sums = fixture.Detector.ScoreAll(frames, null).Select(static s => s.None).ToArray();
            var peaks = peak.ScoreAll(frames, null).Select(static s => s.None).ToArray();
            for (var i = 0; i < frames.Length; i++)
            {
                var r = sums[i].Residual;
                Assert.Equal(r.Values, peaks[i].Residual.Values);
                var best = 0.0;
                for (var y = 0; y + k <= Size; y++)
                {
                    for (var x = 0; x + k <= Size; x++)
                    {
                        var window = 0.0;
                        for (var dy = 0; dy < k; dy++)
                        {
                            for (var dx = 0; dx < k; dx++)
                            {
                                window += r.Values[((y + dy) * Size) + x + dx];
                            }
                        }

                        best = Math.Max(best, window);
                    }
                }

                Assert.Equal(best, peaks[i].RawScore, 1e-4 * best);
                Assert.True(peaks[i].RawScore < sums[i].RawScore);
            }
        }
    }

    [Fact]
    public void Masked_scores_never_exceed_the_unmasked_score()
    {
        var scores = fixture.Detector.ScoreAll(Sequence(12, person: true), LeftHalf(Size));
        Assert.All(scores, s =>
        {
            Assert.True(s.Learned.RawScore <= s.None.RawScore * (1 + 1e-6), $"learned {s.Learned.RawScore} > none {s.None.RawScore}");
            Assert.True(s.Ideal!.RawScore <= s.None.RawScore * (1 + 1e-6), $"ideal {s.Ideal.RawScore} > none {s.None.RawScore}");
        });
        Assert.Contains(scores, s => s.Learned.RawScore < s.None.RawScore);
    }

    [Theory]
    [InlineData(Size)]
    [InlineData(Size * 2)]
    public void Ideal_mask_zeroes_the_residual_outside_the_region_of_interest(int roiSize)
    {
        var frames = Sequence(6).Select(f => roiSize == Size ? f : new Frame(roiSize, roiSize, FrameTensors.ResizeBgr(f, roiSize, roiSize))).ToArray();
        var scores = fixture.Detector.ScoreVariants(frames, new ScoringContext(LeftHalf(roiSize)))[2]!;
        var unmasked = fixture.Detector.ScoreAll(frames, null);
        for (var i = 0; i < scores.Count; i++)
        {
            var values = scores[i].Residual.Values;
            Assert.All(Enumerable.Range(0, values.Length).Where(p => p % Size >= Size / 2), p => Assert.Equal(0f, values[p]));
            Assert.All(Enumerable.Range(0, values.Length).Where(p => p % Size < Size / 2), p => Assert.Equal(unmasked[i].None.Residual.Values[p], values[p], 1e-6f));
        }
    }

    [Fact]
    public void The_variants_are_learned_none_and_ideal_and_the_default_is_the_learned_mask()
    {
        var frames = Sequence(5);
        var variants = fixture.Detector.ScoreVariants(frames, new ScoringContext(LeftHalf(Size)));
        Assert.Equal(["learned", "none", "ideal"], fixture.Detector.Variants);
        Assert.Equal(fixture.Detector.ScoreSequence(frames).Select(s => s.RawScore), variants[0]!.Select(s => s.RawScore));
        Assert.Equal(fixture.Detector.ScoreAll(frames, LeftHalf(Size)).Select(s => s.Ideal!.RawScore), variants[2]!.Select(s => s.RawScore));
    }

    [Fact]
    public void Learned_masks_lie_in_the_unit_interval()
    {
        var masks = fixture.Detector.LearnedMasks(Sequence(9));
        Assert.Equal(9, masks.Length);
        Assert.All(masks, m => Assert.All(m, v => Assert.InRange(v, 0f, 1f)));
    }

    [Fact]
    public void Scoring_leaves_no_live_tensor_behind()
    {
        var frames = Sequence(9);
        fixture.Detector.ScoreAll(frames, LeftHalf(Size));
        fixture.Detector.LearnedMasks(frames);
        var before = LeakProbe.LiveTensors;
        fixture.Detector.ScoreAll(frames, LeftHalf(Size));
        fixture.Detector.ScoreSequence(frames);
        fixture.Detector.LearnedMasks(frames);
        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    [Fact]
    public void Windows_scored_in_one_batch_give_each_last_frame_the_score_of_its_window_alone()
    {
        var t = fixture.Detector.History;
        var frames = Sequence(t + 11);
        var windows = Enumerable.Range(0, 12).Select(i => (IReadOnlyList<Frame>)frames[i..(i + t)]).ToArray();   // 12 windows: more than one batch of 8

        var batched = fixture.Detector.ScoreLastFrames(windows);

        Assert.Equal(windows.Length, batched.Count);
        for (var i = 0; i < windows.Length; i++)
        {
            var alone = fixture.Detector.ScoreSequence(windows[i])[^1];
            Assert.True(Math.Abs(alone.RawScore - batched[i].RawScore) <= 1e-5 * Math.Max(1, Math.Abs(alone.RawScore)), $"window {i}: alone {alone.RawScore:R}, batched {batched[i].RawScore:R}");
            Assert.Equal(alone.Residual.Values, batched[i].Residual.Values, static (a, b) => Math.Abs(a - b) <= 1e-5f);
        }
    }

    [Fact]
    public void Batched_windows_must_each_hold_history_frames_and_leave_no_live_tensor()
    {
        var t = fixture.Detector.History;
        var frames = Sequence(t + 2);
        Assert.Throws<ArgumentException>(() => fixture.Detector.ScoreLastFrames([frames[..(t - 1)]]));
        fixture.Detector.ScoreLastFrames([frames[..t]]);
        var before = LeakProbe.LiveTensors;
        fixture.Detector.ScoreLastFrames([frames[..t], frames[2..(t + 2)]]);
        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    [Fact]
    public void Learned_variants_with_the_detectors_own_settings_score_exactly_as_ScoreAll()
    {
        // Asking for 4 layers too makes R3D-18 return more activations than the own 2-layer setting needs:
        // the own setting must still average the LAST 2 conv layers, as ScoreAll does.
        var frames = Sequence(13, person: true);
        var own = fixture.Detector.Options.Cam;
        var variants = fixture.Detector.ScoreLearnedVariants(frames, [new CamSettings(4, 0.2, 5), own, new CamSettings(1, 0.0, 1)]);
        var expected = fixture.Detector.ScoreAll(frames, null);
        Assert.Equal(3, variants.Count);
        Assert.All(variants, v => Assert.Equal(frames.Length, v.Count));
        for (var i = 0; i < frames.Length; i++)
        {
            Assert.Equal(expected[i].Learned.RawScore, variants[1][i].RawScore, 1e-6 * expected[i].Learned.RawScore);
            Assert.Equal(expected[i].Learned.Ignored!.Data, variants[1][i].Ignored!.Data);
        }
    }

    [Fact]
    public void Learned_variants_do_not_depend_on_the_other_settings_asked_for()
    {
        var frames = Sequence(11);
        var one = new CamSettings(1, 0.1, 3);
        var alone = fixture.Detector.ScoreLearnedVariants(frames, [one])[0];
        var among = fixture.Detector.ScoreLearnedVariants(frames, [new CamSettings(8, 0.0, 7), one, new CamSettings(2, 0.3, 1)])[1];
        Assert.Equal(alone.Select(s => s.RawScore), among.Select(s => s.RawScore));
    }

    [Fact]
    public void A_higher_Eigen_CAM_threshold_never_keeps_more_of_a_frame()
    {
        var frames = Sequence(12, person: true);
        var thresholds = new[] { 0.0, 0.3, 0.6 };
        var variants = fixture.Detector.ScoreLearnedVariants(frames, thresholds.Select(t => new CamSettings(2, t, 3)).ToArray());
        for (var v = 1; v < thresholds.Length; v++)
        {
            for (var i = 0; i < frames.Length; i++)
            {
                var (lower, higher) = (variants[v - 1][i], variants[v][i]);
                Assert.True(higher.RawScore <= lower.RawScore * (1 + 1e-6), $"frame {i}: threshold {thresholds[v]} scores {higher.RawScore} > {lower.RawScore} at {thresholds[v - 1]}");
                var ignoredLower = lower.Ignored!.Data;
                var ignoredHigher = higher.Ignored!.Data;
                Assert.All(Enumerable.Range(0, ignoredLower.Length).Where(p => ignoredLower[p]), p => Assert.True(ignoredHigher[p], $"frame {i} pixel {p} ignored at {thresholds[v - 1]} but kept at {thresholds[v]}"));
            }
        }

        Assert.Contains(Enumerable.Range(0, frames.Length), i => variants[2][i].RawScore < variants[0][i].RawScore * (1 - 1e-3));
    }

    [Fact]
    public void Learned_variants_refuse_invalid_settings_and_score_no_frames_as_empty()
    {
        var frames = Sequence(4);
        Assert.Throws<ArgumentException>(() => fixture.Detector.ScoreLearnedVariants(frames, [new CamSettings(2, 0.1, 4)]));
        Assert.Throws<ArgumentException>(() => fixture.Detector.ScoreLearnedVariants(frames, [new CamSettings(9, 0.1, 3)]));
        Assert.Throws<ArgumentException>(() => fixture.Detector.ScoreLearnedVariants(frames, [new CamSettings(2, 1.0, 3)]));
        Assert.Throws<ArgumentException>(() => fixture.Detector.ScoreLearnedVariants(frames, []));
        Assert.All(fixture.Detector.ScoreLearnedVariants([], [new CamSettings(1, 0, 1), new CamSettings(2, 0, 1)]), Assert.Empty);
    }

    [Fact]
    public void Scoring_learned_variants_leaves_no_live_tensor_behind()
    {
        var frames = Sequence(9);
        CamSettings[] settings = [new(1, 0.0, 3), new(4, 0.2, 7), new(2, 0.1, 11)];
        fixture.Detector.ScoreLearnedVariants(frames, settings);
        var before = LeakProbe.LiveTensors;
        fixture.Detector.ScoreLearnedVariants(frames, settings);
        Assert.Equal(before, LeakProbe.LiveTensors);
    }

    [Fact]
    public void A_saved_bundle_loads_into_a_detector_that_scores_identically_three_ways()
    {
        var path = Path.Combine(Path.GetTempPath(), $"temporal-{Guid.NewGuid():N}.sabundle");
        try
        {
            var calibrations = new Dictionary<string, ScoreCalibration> { ["learned"] = new(5, 1, 9, 99), ["none"] = new(7, 2, 11, 99) };
            var bundle = DetectorCatalog.CreateBundle(fixture.Detector, calibrations, new Dictionary<string, string>(), DateTimeOffset.UnixEpoch);
            bundle.Save(path);
            using var loaded = DetectorCatalog.Load(path, CPU);
            var detector = Assert.IsType<TemporalDetector>(loaded.Detector);
            Assert.Equal(fixture.Detector.Options, detector.Options);
            Assert.Equal(fixture.Detector.Cycle.Period, detector.Cycle.Period);
            Assert.Equal(fixture.Detector.Cycle.Template, detector.Cycle.Template);
            Assert.Equal(calibrations, loaded.Manifest.Calibrations);
            Assert.Equal(calibrations["learned"], loaded.Calibration);

            var frames = Sequence(11);
            var expected = fixture.Detector.ScoreAll(frames, LeftHalf(Size));
            var actual = detector.ScoreAll(frames, LeftHalf(Size));
            Assert.Equal(expected.Select(s => (s.None.RawScore, s.Learned.RawScore, s.Ideal!.RawScore)), actual.Select(s => (s.None.RawScore, s.Learned.RawScore, s.Ideal!.RawScore)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public sealed class TemporalWeakLabelTests
{
    [Theory]
    [InlineData(12.0)]
    [InlineData(17.5)]
    public void Weak_labels_recover_the_period_and_the_phase_of_a_periodic_sequence(double period)
    {
        const int size = 32;
        var starts = new[] { 0.0, 0.25, 0.6 };
        var clips = starts.Select((s, c) => FrameTensors.ToByteTensor(PeriodicFrames.Clip(size, 70, period, s, seed: c), size, size)).ToArray();
        try
        {
            var labels = TemporalTrainer.Label(clips, partitions: 4, transition: 2);
            Assert.InRange(labels.Cycle.Period, period * 0.95, period * 1.05);

            // Classes are partitions of the phase relative to the reference clip's frame 0 (phase 0).
            var agree = 0;
            var total = 0;
            for (var c = 0; c < clips.Length; c++)
            {
                for (var i = 0; i < 70; i++)
                {
                    var truth = (int)Math.Floor(PeriodicFrames.Phase(i, period, starts[c]) * 4) % 4;
                    var got = labels.Clips[c].Classes[i];
                    agree += got == truth || Math.Abs(PeriodicFrames.Phase(i, period, starts[c]) * 4 - Math.Round(PeriodicFrames.Phase(i, period, starts[c]) * 4)) < 0.25 ? 1 : 0;
                    total++;
                }
            }

            Assert.True(agree >= total * 0.9, $"{agree} of {total} frames in the right partition (or within a quarter partition of a border)");
            Assert.All(labels.Clips, c => Assert.All(c.Soft, row => Assert.Equal(1.0, row.Sum(), 1e-9)));
        }
        finally
        {
            foreach (var clip in clips)
            {
                clip.Dispose();
            }
        }
    }
}
