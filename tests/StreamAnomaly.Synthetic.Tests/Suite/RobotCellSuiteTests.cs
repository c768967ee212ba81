using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Scene;
using StreamAnomaly.Synthetic.Suite;

namespace StreamAnomaly.Synthetic.Tests.Suite;

public sealed class RobotCellSuiteTests : IDisposable
{
    private static readonly RobotCellSuiteOptions Tiny = new(
        Seed: 3,
        FrameSize: 48,
        Counts: new SuiteCounts(1, 1, 1, TrainCycles: 1, ValClipsPerCategory: 1, ValCycles: 1, Seed000FramesPerCategory: 3, Seed002RepeatsPerKind: 1),
        Seed002Kinds: [AnomalyKind.DroppedPart, AnomalyKind.CycleTooFast]);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sa-synthetic-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Tiny_suite_writes_the_expected_folders_clips_and_contact_sheet()
    {
        var outDir = Path.Combine(_root, "suite");

        RobotCellSuite.Generate(Tiny, outDir, progress: null);

        Assert.Equal([".", "contact-sheet.png", "test", "train", "val"], Entries(outDir).Prepend(".").Order(StringComparer.Ordinal));
        Assert.Equal(["background-000", "normal-object-000", "people-000"], ClipDataset.Open(Path.Combine(outDir, "train"), true).Select(c => c.Name));
        Assert.Equal(3, ClipDataset.Open(Path.Combine(outDir, "val"), true).Count);
        Assert.Equal(
            [
                "s000-abnormal-object", "s000-background", "s000-normal+abnormal", "s000-normal-object",
                "s002-cycle-too-fast", "s002-cycle-too-fast-people", "s002-dropped-part", "s002-dropped-part-people",
            ],
            ClipDataset.Open(Path.Combine(outDir, "test"), true).Select(c => c.Name));
        Assert.Equal(["suite"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName));
    }

    [Fact]
    public void Summary_counts_match_the_labels_on_disk()
    {
        var outDir = Path.Combine(_root, "suite");

        var summary = RobotCellSuite.Generate(Tiny, outDir, progress: null);

        var onDisk = new[] { "train", "val", "test" }
            .SelectMany(split => ClipDataset.Open(Path.Combine(outDir, split), true)
                .SelectMany(clip => clip.Labels!.Select(label => (Split: split, Clip: clip.Name, label.Category, label.Label))))
            .GroupBy(x => (x.Split, x.Category))
            .Select(g => new SuiteSummaryRow(g.Key.Split, g.Key.Category, g.Select(x => x.Clip).Distinct().Count(), g.Count(), g.Sum(x => x.Label)))
            .OrderBy(r => r.Split, StringComparer.Ordinal).ThenBy(r => r.Category, StringComparer.Ordinal);
        Assert.Equal(onDisk, summary.Rows);
    }

    [Fact]
    public void Seed002_clips_have_a_normal_cycle_of_0s_then_anomalous_frames_with_masks()
    {
        var outDir = Path.Combine(_root, "suite");
        RobotCellSuite.Generate(Tiny, outDir, progress: null);

        var clip = ClipDataset.Open(Path.Combine(outDir, "test"), true).Single(c => c.Name == "s002-dropped-part");
        var labels = clip.Labels!;
        var firstAnomalous = labels.First(l => l.Label == 1).Frame;

        Assert.True(firstAnomalous > 10, "the first cycle is normal");
        Assert.All(labels, l => Assert.Equal(l.Label == 1 ? "dropped-part" : "normal-cycle", l.Category));
        Assert.True(clip.ReadMask("anomaly", firstAnomalous)!.Area > 0);
        Assert.NotNull(clip.ReadRoi());
    }

    [Fact]
    public void Same_options_write_identical_labels_masks_and_frames()
    {
        var a = RobotCellSuite.Generate(Tiny, Path.Combine(_root, "a"), progress: null);
        var b = RobotCellSuite.Generate(Tiny, Path.Combine(_root, "b"), progress: null);

        var filesA = Files(a.OutDir);
        Assert.Equal(filesA, Files(b.OutDir));
        Assert.All(filesA.Where(f => !f.EndsWith(".avi", StringComparison.Ordinal)), f =>
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.OutDir, f)), File.ReadAllBytes(Path.Combine(b.OutDir, f))));
        var clipA = ClipDataset.Open(Path.Combine(a.OutDir, "train"), true)[2];
        var clipB = ClipDataset.Open(Path.Combine(b.OutDir, "train"), true)[2];
        Assert.Equal(clipA.ReadFrames().Select(f => f.Bgr), clipB.ReadFrames().Select(f => f.Bgr));
    }

    [Fact]
    public void Progress_reports_every_clip()
    {
        var reports = new List<SuiteProgress>();

        RobotCellSuite.Generate(Tiny, Path.Combine(_root, "suite"), new SynchronousProgress(reports.Add));

        Assert.Equal(Enumerable.Range(1, 14), reports.Select(r => r.ClipsDone));
        Assert.All(reports, r => Assert.Equal(14, r.ClipsTotal));
    }

    [Fact]
    public void Generate_refuses_a_non_empty_output_folder()
    {
        var outDir = Path.Combine(_root, "busy");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");

        Assert.Throws<IOException>(() => RobotCellSuite.Generate(Tiny, outDir, progress: null));
        Assert.Equal(["keep.txt"], Entries(outDir));
    }

    private static string[] Entries(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    private static string[] Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToArray();

    private sealed class SynchronousProgress(Action<SuiteProgress> report) : IProgress<SuiteProgress>
    {
        public void Report(SuiteProgress value) => report(value);
    }
}
