using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Core.Tests.Streaming;

/// <summary>Builders for partial results with a simple calibration: raw 10 = threshold (0.5), range 20.</summary>
internal static class StreamingTestData
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public static readonly ScoreCalibration Calibration = new(Threshold: 10, Min: 0, Max: 20, Percentile: 99);

    /// <summary>Raw score giving normalised <paramref name="normalised"/> under <see cref="Calibration"/>.</summary>
    public static double Raw(double normalised) => ((normalised - 0.5) * 20) + 10;

    public static PartialResult Partial(
        string camera, long sequence, double normalised, string line = "A", string detector = "autoencoder", int detectors = 1,
        MaskGrid? ignored = null, ResidualGrid? residual = null, double fps = 5) =>
        new(new FrameKey(camera, sequence), line, T0.AddTicks((long)Math.Round(sequence * TimeSpan.TicksPerSecond / fps)), detector, detectors, Raw(normalised), Calibration,
            residual ?? Uniform(4, 4, 1), ignored);

    public static ResidualGrid Uniform(int w, int h, float value) => new(w, h, value, Enumerable.Repeat((byte)255, w * h).ToArray());
}
