using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Detection;

/// <summary>A clip held in memory (frames rendered or captured for commissioning, tests).</summary>
/// <param name="Name">Name of the clip.</param>
/// <param name="Frames">Its frames, in order.</param>
/// <param name="Labels">One label per frame, or null (every frame normal).</param>
/// <param name="Roi">Its static region of interest, or null.</param>
public sealed record FrameClip(string Name, IReadOnlyList<Frame> Frames, IReadOnlyList<FrameLabel>? Labels = null, BinaryMask? Roi = null) : ILabelledClip
{
    public IEnumerable<Frame> ReadFrames() => Frames;

    public BinaryMask? ReadRoi() => Roi;
}
