using Prometheus;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host.Metrics;

namespace StreamAnomaly.IntegrationTests;

public sealed class PipelineMetricsTests
{
    private static async Task<string> Scrape(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task Lost_frames_are_exported_per_camera_and_every_camera_starts_at_zero()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new PipelineMetrics(registry);
        metrics.Initialise([new LineOptions("line-a", [new CameraOptions("cam-1", "synthetic:1"), new CameraOptions("cam-2", "synthetic:2")])]);

        metrics.FramesLost("cam-1", 720);
        var text = await Scrape(registry);

        Assert.Equal(720, PrometheusText.Sum(text, "streamanomaly_frames_lost_total", "camera=\"cam-1\""));
        Assert.Contains("streamanomaly_frames_lost_total{camera=\"cam-2\"} 0", text, StringComparison.Ordinal);
    }
}
