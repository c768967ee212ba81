using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Scores every frame 0 (far below the threshold): a plant runs without a trained model.</summary>
internal sealed class ZeroScorer : IFrameScorer
{
    public string Detector => "zero";

    public ScoreCalibration Calibration { get; } = new(Threshold: 10, Min: 0, Max: 20, Percentile: 99);

    public IReadOnlyList<DetectorVerdict> Score(IReadOnlyList<(FrameKey Key, Frame Image)> batch) =>
        batch.Select(_ => new DetectorVerdict(0, new ResidualGrid(1, 1, 1, [0]), null)).ToArray();

    public void Dispose()
    {
    }
}
