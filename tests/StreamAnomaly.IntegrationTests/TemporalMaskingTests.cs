using System.Diagnostics;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Synthetic.Scene;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Imaging;
using StreamAnomaly.Vision.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Rendered robot-cell clips (5 fps, so the nominal cycle is 30 frames).</summary>
internal static class RobotCellClips
{
    public const double Fps = 5;

    public static Frame[] Render(int seed, SceneOptions options, int frames, int size, double t0 = 0)
    {
        var scene = new RobotCellScene(seed, options);
        return Enumerable.Range(0, frames).Select(i => scene.Render(t0 + (i / Fps), size, size).Frame).ToArray();
    }

    /// <summary>Mean duration in frames of the cycles that overlap [t0, t0 + frames / fps).</summary>
    public static double TruePeriod(int seed, SceneOptions options, int frames, double t0 = 0)
    {
        var schedule = new RobotCellScene(seed, options).Schedule;
        var end = t0 + (frames / Fps);
        var durations = new List<double>();
        for (var k = 0; schedule.Start(k) < end; k++)
        {
            if (schedule.Start(k) + schedule.Duration(k) > t0)
            {
                durations.Add(schedule.Duration(k) * Fps);
            }
        }

        return durations.Average();
    }
}

[Collection(nameof(ConsoleCollection))]
public sealed class TemporalMaskingTests(ITestOutputHelper output)
{
    [Fact]
    public void Weak_labels_recover_the_cycle_period_of_a_rendered_robot_cell_clip_within_5_percent()
    {
        const int size = 64, frames = 150;
        var clips = new[] { (Seed: 11, T0: 0.0), (Seed: 12, T0: 2.3) }
            .Select(c => FrameTensors.ToByteTensor(RobotCellClips.Render(c.Seed, SceneOptions.Background, frames, size, c.T0), size, size))
            .ToArray();
        try
        {
            var labels = TemporalTrainer.Label(clips, partitions: 4, transition: 2);
            var truth = RobotCellClips.TruePeriod(11, SceneOptions.Background, frames);
            output.WriteLine($"estimated {labels.Cycle.Period:F3} frames, true mean {truth:F3} frames, template {labels.Cycle.Template.Length}");
            output.WriteLine(string.Join(" ", labels.Clips[0].Distance.Select(v => v.ToString("F1"))));
            Assert.InRange(labels.Cycle.Period, truth * 0.95, truth * 1.05);
            Assert.All(labels.Clips, c => Assert.Equal(frames, c.Classes.Length));
            Assert.All(labels.Clips, c => Assert.Equal(Enumerable.Range(0, 4), c.Classes.Distinct().Order()));
        }
        finally
        {
            foreach (var clip in clips)
            {
                clip.Dispose();
            }
        }
    }

    /// <remarks>
    /// The key test, fixed seeds, 64 px, three training seeds summed: one seed's result moves
    /// with the numerics. Measured 2026-12-02 on the 2-core AMD EPYC machine (oneDNN at AVX, see
    /// TorchRuntime), FP of 120 people frames, none / learned / ideal: seed 1 29 / 30 / 22, seed 2
    /// 59 / 43 / 40, seed 3 22 / 22 / 22 (seeds 4 and 5: 35 / 28 / 37, 31 / 17 / 23); about 22 s of
    /// training per seed. On the earlier machine seed 1 gave 30 / 3 / 22. The mean learned mask on
    /// people pixels (seed 1: 0.369) is no lower than inside the ROI (0.336): the FP drop is not yet
    /// evidence that the mask singles out the people.
    /// </remarks>
    [Fact]
    public void Learned_mask_lowers_false_positives_on_clips_with_people_behind_the_cell()
    {
        const int size = 64;
        var watch = Stopwatch.StartNew();
        // As in the paper, people walk behind the cell in some normal training and validation clips too.
        var train = new[] { 101, 102, 103, 104 }.Select(s => RobotCellClips.Render(s, s == 104 ? SceneOptions.WithPeople : SceneOptions.Background, 90, size, t0: s % 5)).ToArray();
        var val = new[] { 201, 202 }.Select(s => RobotCellClips.Render(s, s == 202 ? SceneOptions.WithPeople : SceneOptions.Background, 45, size)).ToArray();
        var people = new[] { 301, 302 }.Select(s => RobotCellClips.Render(s, SceneOptions.WithPeople, 60, size)).ToArray();
        var roi = RobotCellScene.RegionOfInterest(size, size);
        output.WriteLine($"render {watch.Elapsed.TotalSeconds:F1} s");

        var totals = new Dictionary<TemporalMasking, int> { [TemporalMasking.None] = 0, [TemporalMasking.Learned] = 0, [TemporalMasking.Ideal] = 0 };
        foreach (var seed in new[] { 1, 2, 3 })
        {
            watch.Restart();
            var tensors = train.Select(c => FrameTensors.ToByteTensor(c, size, size)).ToArray();
            var options = new TemporalOptions
            {
                Size = size, Window = 6, Partitions = 4, AutoencoderWidth = 8, AutoencoderHidden = 16, MaskWidthDivisor = 16, CamLayers = 8, CamThreshold = 0.1, CamWindow = 5,
                Epochs = 6, MaskEpochs = 10, Batch = 8, LearningRate = 3e-3, Transition = 2,
            };
            using var detector = TemporalTrainer.Train(tensors, options, new FitContext(CPU, seed)).Detector;
            foreach (var t in tensors)
            {
                t.Dispose();
            }

            var valScores = val.SelectMany(c => detector.ScoreAll(c, roi)).ToArray();
            var testScores = people.SelectMany(c => detector.ScoreAll(c, roi)).ToArray();
            foreach (var masking in totals.Keys)
            {
                var threshold = ScoreCalibration.Fit(valScores.Select(s => s.Get(masking)!.RawScore), 99).Threshold;
                var fp = testScores.Count(s => s.Get(masking)!.RawScore >= threshold);
                totals[masking] += fp;
                output.WriteLine($"seed {seed}: {masking} {fp} false positives of {testScores.Length} people frames");
            }

            output.WriteLine($"seed {seed}: train and score {watch.Elapsed.TotalSeconds:F1} s, period {detector.Cycle.Period:F2}");
            if (seed == 1)
            {
                WriteMeanMasks(detector, people[0], roi);
            }
        }

        output.WriteLine($"false positives over three seeds: none {totals[TemporalMasking.None]}, learned {totals[TemporalMasking.Learned]}, ideal {totals[TemporalMasking.Ideal]}");
        Assert.True(totals[TemporalMasking.Learned] < totals[TemporalMasking.None], $"learned {totals[TemporalMasking.Learned]} vs none {totals[TemporalMasking.None]}");
    }

    /// <summary>The learned mask's mean on people pixels against its mean elsewhere inside the region of interest.</summary>
    private void WriteMeanMasks(TemporalDetector detector, IReadOnlyList<Frame> clip, BinaryMask roi)
    {
        var masks = detector.LearnedMasks(clip);
        var personFrames = new RobotCellScene(301, SceneOptions.WithPeople);
        var inPerson = new List<float>();
        var inRoi = new List<float>();
        for (var i = 0; i < masks.Length; i++)
        {
            var person = personFrames.Render(i / RobotCellClips.Fps, roi.Width, roi.Height).Person;
            for (var p = 0; p < masks[i].Length; p++)
            {
                if (person.Data[p])
                {
                    inPerson.Add(masks[i][p]);
                }
                else if (roi.Data[p])
                {
                    inRoi.Add(masks[i][p]);
                }
            }
        }

        output.WriteLine($"mean learned mask: on people {inPerson.DefaultIfEmpty().Average():F3} ({inPerson.Count} px), in the ROI {inRoi.Average():F3}");
    }
}
