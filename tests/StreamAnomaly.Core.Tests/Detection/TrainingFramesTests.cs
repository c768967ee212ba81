using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Tests.Detection;

public sealed class TrainingFramesTests
{
    /// <summary>Frame i is a 1x1 frame of grey level i, so frames can be told apart.</summary>
    private static FrameClip Clip(string name, params (int Label, string Category)[] labels) =>
        new(name, labels.Select((_, i) => new Frame(1, 1, [(byte)i, (byte)i, (byte)i])).ToArray(), labels.Select((l, i) => new FrameLabel(i, l.Label, l.Category)).ToArray());

    private static int[] Levels(IEnumerable<Frame> frames) => frames.Select(f => (int)f.Bgr[0]).ToArray();

    [Fact]
    public void Anomalous_frames_never_count_and_categories_restrict_the_rest()
    {
        var clip = Clip("c", (0, "background"), (1, "background"), (0, "hand"), (0, "background"));

        Assert.Equal([0, 2, 3], Levels(TrainingFrames.AllNormal.Frames([clip])));
        Assert.Equal([0, 3], Levels(TrainingFrames.Of("background").Frames([clip])));
    }

    [Fact]
    public void A_clip_without_labels_counts_as_all_normal_but_has_no_category()
    {
        var clip = new FrameClip("u", [new Frame(1, 1, [5, 5, 5]), new Frame(1, 1, [6, 6, 6])]);

        Assert.Equal([5, 6], Levels(TrainingFrames.AllNormal.Frames([clip])));
        Assert.Empty(TrainingFrames.Of("background").Frames([clip]));
    }

    [Fact]
    public void Runs_are_cut_at_unusable_frames_and_short_runs_are_dropped()
    {
        var clip = Clip("c", (0, "b"), (0, "b"), (0, "b"), (1, "b"), (0, "b"), (0, "x"), (0, "b"), (0, "b"));

        var runs = TrainingFrames.Of("b").Runs([clip], minimum: 2);

        Assert.Equal([(0, 3), (6, 2)], runs.Select(r => (r.First, r.Frames.Count)));
        Assert.Equal([6, 7], Levels(runs[1].Frames));
        Assert.All(runs, r => Assert.Same(clip, r.Clip));
    }

    [Fact]
    public void The_description_names_the_categories()
    {
        Assert.Equal("normal frames", TrainingFrames.AllNormal.ToString());
        Assert.Equal("normal frames of category background, hand", new TrainingFrames(["background", "hand"]).ToString());
    }
}
