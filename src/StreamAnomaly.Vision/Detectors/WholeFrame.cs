using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>
/// Scores of whole-frame detectors (<c>lof</c>, <c>iforest</c>, <c>ganomaly</c>, <c>cutpaste</c>):
/// they say whether a frame is unusual, not where, so their map is the score everywhere and fusion
/// takes the score as a peak that other detectors' masks cannot lower.
/// </summary>
public static class WholeFrame
{
    /// <summary>Side of the uniform map.</summary>
    public const int MapSide = 16;

    /// <summary>The raw frame score <paramref name="score"/> with a uniform map and <see cref="ScoreReduction.Peak"/>.</summary>
    public static RawFrameScore Score(double score) =>
        new(score, new AnomalyMap(MapSide, MapSide, Enumerable.Repeat((float)score, MapSide * MapSide).ToArray()), Reduction: ScoreReduction.Peak);
}
