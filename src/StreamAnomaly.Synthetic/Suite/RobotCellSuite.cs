using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Suite;

/// <summary>
/// The <c>robotcell-v1</c> benchmark: train/ (normal: background, normal-object, people), val/ (a mix
/// of the three), test/ (four seed-000 patch-pasting clips and seed-002 clips of one normal then one
/// abnormal cycle per anomaly kind, with and without people), written with <see cref="ClipWriter"/>
/// as MJPG .avi + labels + masks (<c>normal-object</c>, <c>person</c>, <c>anomaly</c>) + roi, and a
/// <c>contact-sheet.png</c>. Deterministic for the options.
/// </summary>
public static class RobotCellSuite
{
    /// <summary>Suite name and version.</summary>
    public const string Name = "robotcell-v1";

    /// <summary>
    /// <c>robotcell-v1</c> with its walkers on the far walkway (<see cref="SceneOptions.FarWalkway"/>):
    /// they no longer pass behind the arm, so the region of interest hides them, as in the temporal
    /// masking paper's footage. Everything else is the same, frame for frame.
    /// </summary>
    public const string FarWalkwayName = "robotcell-v2";

    /// <summary>The suites this generator renders.</summary>
    public static IReadOnlyList<string> Names { get; } = [Name, FarWalkwayName];

    /// <summary>
    /// Generates the suite into <paramref name="outDir"/>: everything is written to a hidden sibling
    /// folder first and moved into place at the end, so a failure leaves nothing half-written.
    /// Throws <see cref="IOException"/> when <paramref name="outDir"/> exists and is not empty.
    /// </summary>
    public static SuiteSummary Generate(RobotCellSuiteOptions options, string outDir, IProgress<SuiteProgress>? progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        if (options.FrameSize is < RobotCellSuiteOptions.MinFrameSize or > RobotCellSuiteOptions.MaxFrameSize)
        {
            throw new ArgumentException($"frame size must be in {RobotCellSuiteOptions.MinFrameSize} .. {RobotCellSuiteOptions.MaxFrameSize} px, got {options.FrameSize}");
        }

        if (!(options.Fps > 0 && options.Fps <= RobotCellSuiteOptions.MaxFps))
        {
            throw new ArgumentException($"fps must be in (0, {RobotCellSuiteOptions.MaxFps}], got {options.Fps}");
        }

        options.EffectiveCounts.Validate();
        outDir = Path.GetFullPath(outDir.TrimEnd('/', '\\'));
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            throw new IOException($"{outDir}: exists and is not empty; refusing to overwrite (choose a new folder or empty it)");
        }

        if (File.Exists(outDir))
        {
            throw new IOException($"{outDir}: is a file");
        }

        var parent = Path.GetDirectoryName(outDir) ?? ".";
        Directory.CreateDirectory(parent);

        // A new folder of a random name: nothing planted beside the output is written through or deleted.
        var staging = Path.Combine(parent, $".{Path.GetFileName(outDir)}.partial-{Guid.NewGuid():N}");

        try
        {
            var generator = new Generator(options, staging, progress);
            var rows = generator.Run();
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir);
            }

            Directory.Move(staging, outDir);
            return new SuiteSummary(outDir, rows, generator.ClipsPerSplit);
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }

    /// <summary>One generation run; holds the bookkeeping.</summary>
    private sealed class Generator(RobotCellSuiteOptions options, string root, IProgress<SuiteProgress>? progress)
    {
        private const string Train = "train", Val = "val", Test = "test";
        private readonly SuiteCounts _counts = options.EffectiveCounts;
        private readonly int _size = options.FrameSize;
        private readonly Dictionary<(string Split, string Category), (HashSet<string> Clips, int Frames, int Anomalous)> _tally = [];
        private readonly List<(string Caption, Frame Frame)> _sheet = [];
        private int _done;
        private int _clipIndex;

        public Dictionary<string, int> ClipsPerSplit { get; } = [];

        private SceneOptions People { get; } = SceneOptions.WithPeople with { FarWalkway = options.FarWalkway };

        private IReadOnlyList<AnomalyKind> Kinds => options.Seed002Kinds ?? Enum.GetValues<AnomalyKind>();

        private int Total =>
            _counts.TrainBackgroundClips + _counts.TrainHandClips + _counts.TrainPeopleClips + (3 * _counts.ValClipsPerCategory)
            + 4 + (2 * Kinds.Count * _counts.Seed002RepeatsPerKind);

        public IReadOnlyList<SuiteSummaryRow> Run()
        {
            Directory.CreateDirectory(root);
            var normal = new (string Category, SceneOptions Scene, int TrainClips)[]
            {
                ("background", SceneOptions.Background, _counts.TrainBackgroundClips),
                ("normal-object", SceneOptions.WithHands, _counts.TrainHandClips),
                ("people", People, _counts.TrainPeopleClips),
            };
            foreach (var (category, scene, clips) in normal)
            {
                for (var i = 0; i < clips; i++)
                {
                    WriteNormalClip(Train, $"{category}-{i:D3}", category, scene, _counts.TrainCycles, sheet: i == 0);
                }
            }

            foreach (var (category, scene, _) in normal)
            {
                for (var i = 0; i < _counts.ValClipsPerCategory; i++)
                {
                    WriteNormalClip(Val, $"{category}-{i:D3}", category, scene, _counts.ValCycles, sheet: false);
                }
            }

            var paster = new PatchPaster(SeedMix.Derive(options.Seed, SeedMix.Stream.Suite, -1), options.Fps);
            foreach (var category in Enum.GetValues<PatchCategory>())
            {
                WriteSeed000Clip(paster, category);
            }

            for (var r = 0; r < _counts.Seed002RepeatsPerKind; r++)
            {
                foreach (var kind in Kinds)
                {
                    foreach (var people in new[] { false, true })
                    {
                        WriteSeed002Clip(kind, people, r);
                    }
                }
            }

            ContactSheet.Write(Path.Combine(root, "contact-sheet.png"), _sheet);
            return _tally
                .OrderBy(p => p.Key.Split, StringComparer.Ordinal).ThenBy(p => p.Key.Category, StringComparer.Ordinal)
                .Select(p => new SuiteSummaryRow(p.Key.Split, p.Key.Category, p.Value.Clips.Count, p.Value.Frames, p.Value.Anomalous))
                .ToArray();
        }

        private void WriteNormalClip(string split, string name, string category, SceneOptions sceneOptions, int cycles, bool sheet)
        {
            var seed = NextClipSeed();
            var scene = new RobotCellScene(seed, sceneOptions);
            var t0 = SeedMix.Random(seed, SeedMix.Stream.Suite, 0).Uniform(0, scene.Schedule.BaseDuration);
            var frames = (int)Math.Round(cycles * scene.Schedule.BaseDuration * options.Fps);
            var best = (Score: -1, Frame: (Frame?)null);
            using var writer = Open(split, name);
            for (var i = 0; i < frames; i++)
            {
                var frame = scene.Render(t0 + (i / options.Fps), _size, _size);
                Append(writer, split, name, frame, category);
                var score = category switch { "normal-object" => frame.NormalObject.Area, "people" => frame.Person.Area, _ => i == 0 ? 0 : -1 };
                if (score > best.Score)
                {
                    best = (score, frame.Frame);
                }
            }

            Finish(writer, split, name);
            if (sheet && best.Frame is not null)
            {
                _sheet.Add(($"train {category}", best.Frame));
            }
        }

        private void WriteSeed000Clip(PatchPaster paster, PatchCategory category)
        {
            var categoryName = PatchPaster.NameOf(category);
            var name = $"s000-{categoryName}";
            using var writer = Open(Test, name);
            for (var i = 0; i < _counts.Seed000FramesPerCategory; i++)
            {
                var frame = paster.Render(category, i, _size, _size);
                Append(writer, Test, name, frame, categoryName);
                if (i == 0)
                {
                    _sheet.Add(($"s000 {categoryName}", frame.Frame));
                }
            }

            Finish(writer, Test, name);
        }

        private void WriteSeed002Clip(AnomalyKind kind, bool people, int repeat)
        {
            var kindName = AnomalySpec.NameOf(kind);
            var name = $"s002-{kindName}{(people ? "-people" : string.Empty)}{(_counts.Seed002RepeatsPerKind > 1 ? $"-{repeat:D2}" : string.Empty)}";
            var sceneOptions = (people ? People : SceneOptions.Background) with { Anomaly = new AnomalySpec(kind, Cycle: 1) };
            var scene = new RobotCellScene(NextClipSeed(), sceneOptions);
            var frames = (int)Math.Floor(scene.Schedule.End(1) * options.Fps);
            var best = (Area: 0, Frame: (Frame?)null);
            using var writer = Open(Test, name);
            for (var i = 0; i < frames; i++)
            {
                var frame = scene.Render(i / options.Fps, _size, _size);
                Append(writer, Test, name, frame, frame.Label == 1 ? kindName : "normal-cycle");
                if (frame.Anomaly.Area > best.Area)
                {
                    best = (frame.Anomaly.Area, frame.Frame);
                }
            }

            Finish(writer, Test, name);
            if (!people && repeat == 0 && best.Frame is not null)
            {
                _sheet.Add(($"s002 {kindName}", best.Frame));
            }
        }

        private int NextClipSeed() => SeedMix.Derive(options.Seed, SeedMix.Stream.Suite, ++_clipIndex);

        private ClipWriter Open(string split, string name)
        {
            var writer = new ClipWriter(Path.Combine(root, split), name, options.Fps);
            writer.WriteRoi(RobotCellScene.RegionOfInterest(_size, _size));
            return writer;
        }

        private void Append(ClipWriter writer, string split, string clip, SceneFrame frame, string category)
        {
            var masks = new Dictionary<string, BinaryMask>
            {
                ["normal-object"] = frame.NormalObject,
                ["person"] = frame.Person,
                ["anomaly"] = frame.Anomaly,
            };
            writer.Append(frame.Frame, new FrameLabel(writer.FrameCount, frame.Label, category), masks);
            var key = (split, category);
            var entry = _tally.TryGetValue(key, out var e) ? e : ([], 0, 0);
            entry.Clips.Add(clip);
            _tally[key] = (entry.Clips, entry.Frames + 1, entry.Anomalous + frame.Label);
        }

        private void Finish(ClipWriter writer, string split, string name)
        {
            writer.Complete();
            ClipsPerSplit[split] = ClipsPerSplit.GetValueOrDefault(split) + 1;
            progress?.Report(new SuiteProgress(split, name, ++_done, Total));
        }
    }
}
