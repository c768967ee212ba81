using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Suite;

/// <summary>Preset sizes of the robotcell-v1 suite.</summary>
public enum SuiteScale
{
    /// <summary>About 2,000 frames: a quick benchmark (well under a minute at 128 px).</summary>
    Small,

    /// <summary>About 10 x small, close to the papers' counts.</summary>
    Full,
}

/// <summary>How many clips and frames of each kind the suite holds.</summary>
/// <param name="TrainBackgroundClips">train/ clips with the robot, belt and parts only.</param>
/// <param name="TrainHandClips">train/ clips with a worker's hand reaching in.</param>
/// <param name="TrainPeopleClips">train/ clips with people, shadows and lamp flicker behind.</param>
/// <param name="TrainCycles">Nominal cycles per train clip (&gt;= 1).</param>
/// <param name="ValClipsPerCategory">val/ clips per category (background, normal-object, people).</param>
/// <param name="ValCycles">Nominal cycles per val clip (&gt;= 1).</param>
/// <param name="Seed000FramesPerCategory">Frames in each of the four s000 test clips (&gt;= 1).</param>
/// <param name="Seed002RepeatsPerKind">s002 clips per anomaly kind and people/no-people variant (&gt;= 0).</param>
public sealed record SuiteCounts(
    int TrainBackgroundClips,
    int TrainHandClips,
    int TrainPeopleClips,
    int TrainCycles,
    int ValClipsPerCategory,
    int ValCycles,
    int Seed000FramesPerCategory,
    int Seed002RepeatsPerKind)
{
    /// <summary>10 train clips of 3 cycles, 3 val clips, 50 frames per s000 category, 16 s002 clips.</summary>
    public static SuiteCounts Small { get; } = new(4, 3, 3, 3, 1, 2, 50, 1);

    /// <summary>About 9,600 background, 1,200 hand and 1,800 people train frames; 250 frames per s000 category; 80 s002 clips.</summary>
    public static SuiteCounts Full { get; } = new(40, 8, 10, 8, 3, 3, 250, 5);

    internal void Validate()
    {
        foreach (var (value, name, min) in new[]
        {
            (TrainBackgroundClips, nameof(TrainBackgroundClips), 0), (TrainHandClips, nameof(TrainHandClips), 0),
            (TrainPeopleClips, nameof(TrainPeopleClips), 0), (TrainCycles, nameof(TrainCycles), 1),
            (ValClipsPerCategory, nameof(ValClipsPerCategory), 0), (ValCycles, nameof(ValCycles), 1),
            (Seed000FramesPerCategory, nameof(Seed000FramesPerCategory), 1), (Seed002RepeatsPerKind, nameof(Seed002RepeatsPerKind), 0),
        })
        {
            if (value < min)
            {
                throw new ArgumentOutOfRangeException(name, value, $"must be >= {min}");
            }
        }
    }
}

/// <summary>Options of <see cref="RobotCellSuite.Generate"/>.</summary>
/// <param name="Seed">Suite seed; every clip's seed derives from it.</param>
/// <param name="FrameSize">Square frame side in pixels, <see cref="MinFrameSize"/> .. <see cref="MaxFrameSize"/>.</param>
/// <param name="Fps">Frames per second, (0, <see cref="MaxFps"/>]; the scene is continuous in time, so any rate works.</param>
/// <param name="Scale">Preset counts, used unless <paramref name="Counts"/> is given.</param>
/// <param name="Counts">Explicit counts overriding <paramref name="Scale"/>.</param>
/// <param name="Seed002Kinds">Anomaly kinds of the s002 clips; null = all kinds.</param>
/// <param name="FarWalkway">Walkers on the far walkway (<see cref="RobotCellSuite.FarWalkwayName"/>) instead of behind the arm.</param>
public sealed record RobotCellSuiteOptions(
    int Seed,
    int FrameSize = 128,
    double Fps = 5,
    SuiteScale Scale = SuiteScale.Small,
    SuiteCounts? Counts = null,
    IReadOnlyList<AnomalyKind>? Seed002Kinds = null,
    bool FarWalkway = false)
{
    /// <summary>Smallest frame side: the detectors' inputs start at 16 px.</summary>
    public const int MinFrameSize = 16;

    /// <summary>
    /// Largest frame side: 1024 px is four times the papers' footage (256 px) and the largest
    /// input the detectors take; a full suite at that size is already about 23,000 frames of
    /// 3 MB each to render, so a larger request is a typo, not a benchmark.
    /// </summary>
    public const int MaxFrameSize = 1024;

    /// <summary>Highest frame rate: the papers' cameras film at 5-30 fps; 60 keeps a mistyped rate from writing millions of frames.</summary>
    public const double MaxFps = 60;

    /// <summary>The counts in effect.</summary>
    public SuiteCounts EffectiveCounts => Counts ?? (Scale == SuiteScale.Full ? SuiteCounts.Full : SuiteCounts.Small);
}

/// <summary>Progress of a suite generation: <paramref name="ClipsDone"/> of <paramref name="ClipsTotal"/>, the last one being <paramref name="Split"/>/<paramref name="Clip"/>.</summary>
public sealed record SuiteProgress(string Split, string Clip, int ClipsDone, int ClipsTotal);

/// <summary>One row of a <see cref="SuiteSummary"/>: counts of one category in one split.</summary>
/// <param name="Split">train, val or test.</param>
/// <param name="Category">Category as written in the labels.</param>
/// <param name="Clips">Clips with at least one frame of this category.</param>
/// <param name="Frames">Frames of this category.</param>
/// <param name="AnomalousFrames">Of those, frames labelled 1.</param>
public sealed record SuiteSummaryRow(string Split, string Category, int Clips, int Frames, int AnomalousFrames);

/// <summary>What a suite generation wrote, counted from the labels it wrote; rows sorted by split then category.</summary>
public sealed record SuiteSummary(string OutDir, IReadOnlyList<SuiteSummaryRow> Rows, IReadOnlyDictionary<string, int> ClipsPerSplit)
{
    /// <summary>Total frames over all splits.</summary>
    public int TotalFrames => Rows.Sum(r => r.Frames);

    /// <summary>A plain-text table for printing.</summary>
    public string Format()
    {
        var lines = new List<string> { $"{"split",-6} {"category",-28} {"clips",6} {"frames",7} {"label=1",8}" };
        lines.AddRange(Rows.Select(r => $"{r.Split,-6} {r.Category,-28} {r.Clips,6} {r.Frames,7} {r.AnomalousFrames,8}"));
        lines.Add($"total: {string.Join(", ", ClipsPerSplit.Select(p => $"{p.Key} {p.Value} clips"))}, {TotalFrames} frames");
        return string.Join('\n', lines);
    }
}
