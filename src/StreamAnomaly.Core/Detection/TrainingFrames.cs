using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Detection;

/// <summary>A run of consecutive usable frames of one clip (a temporal model needs them in order).</summary>
/// <param name="Clip">The clip they come from.</param>
/// <param name="First">Index of the run's first frame in the clip.</param>
/// <param name="Frames">The frames, in order.</param>
public sealed record FrameRun(ILabelledClip Clip, int First, IReadOnlyList<Frame> Frames);

/// <summary>
/// Which frames of labelled clips may fit or calibrate a detector: normal ones (a frame labelled
/// anomalous never does) and, when <paramref name="Categories"/> is not empty, only those of these
/// label categories (the papers fit their first stage on background frames only).
/// </summary>
/// <param name="Categories">Wanted label categories; empty = every normal frame.</param>
public sealed record TrainingFrames(IReadOnlyList<string> Categories)
{
    /// <summary>Every normal frame.</summary>
    public static TrainingFrames AllNormal { get; } = new([]);

    /// <summary>Only normal frames of one category.</summary>
    public static TrainingFrames Of(string category) => new([category]);

    /// <summary>True for a frame that may be used: normal, and of a wanted category when categories are given.</summary>
    public bool Usable(FrameLabel? label) =>
        label is not { IsAnomalous: true } && (Categories.Count == 0 || (label is not null && Categories.Contains(label.Category)));

    /// <summary>The usable frames of every clip, in order.</summary>
    public IEnumerable<Frame> Frames(IEnumerable<ILabelledClip> clips)
    {
        ArgumentNullException.ThrowIfNull(clips);
        return clips.SelectMany(clip => clip.ReadFrames().Where((_, i) => Usable(clip.Labels?[i])));
    }

    /// <summary>
    /// Runs of consecutive usable frames of every clip (an unusable frame ends a run), each at least
    /// <paramref name="minimum"/> frames long.
    /// </summary>
    public List<FrameRun> Runs(IEnumerable<ILabelledClip> clips, int minimum)
    {
        ArgumentNullException.ThrowIfNull(clips);
        var runs = new List<FrameRun>();
        foreach (var clip in clips)
        {
            var first = -1;
            var frames = new List<Frame>();
            var index = 0;
            foreach (var frame in clip.ReadFrames())
            {
                if (Usable(clip.Labels?[index]))
                {
                    first = frames.Count == 0 ? index : first;
                    frames.Add(frame);
                }
                else
                {
                    Keep(clip, first, ref frames);
                }

                index++;
            }

            Keep(clip, first, ref frames);
        }

        return runs;

        void Keep(ILabelledClip clip, int first, ref List<Frame> frames)
        {
            if (frames.Count >= Math.Max(1, minimum))
            {
                runs.Add(new FrameRun(clip, first, frames));
            }

            frames = frames.Count == 0 ? frames : [];
        }
    }

    /// <summary>"normal frames", or "normal frames of category A, B" for messages.</summary>
    public override string ToString() => Categories.Count == 0 ? "normal frames" : $"normal frames of category {string.Join(", ", Categories)}";
}
