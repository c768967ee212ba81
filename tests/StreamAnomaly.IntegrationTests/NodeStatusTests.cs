using System.Net;
using System.Text;
using Confluent.Kafka;
using StreamAnomaly.Host;

namespace StreamAnomaly.IntegrationTests;

/// <summary>A running node's HTTP side (metrics, health, commands) and its handling of malformed frames.</summary>
[Collection(nameof(PlantCollection))]
public sealed class NodeStatusTests(PlantFixture fixture)
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Health_readiness_and_pipeline_metrics_are_served_over_http()
    {
        var recorder = new PlantRecorder();
        await using var node = await PlantNode.StartAsync(PlantFixture.Plant(lines: 1, perLine: 2), new NodeServices { Scorers = () => [fixture.Scorer()], Observer = recorder, Log = _ => { } });
        Assert.Equal("127.0.0.1", node.StatusAddress.Host);
        Assert.Equal("ok\n", await Http.GetStringAsync(new Uri(node.StatusAddress, "healthz")));
        Assert.Equal("ready\n", await Http.GetStringAsync(new Uri(node.StatusAddress, "readyz")));
        Assert.True(await Eventually.True(() => recorder.Decided >= 20, TimeSpan.FromSeconds(60)));

        var metrics = await Http.GetStringAsync(new Uri(node.StatusAddress, "metrics"));
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_frames_ingested_total") >= 20);
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_frames_consumed_total") >= 20);
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_frames_scored_total") >= 20);
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_frames_decided_total") >= 20);
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_end_to_end_latency_seconds_count") >= 20);
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_inference_seconds_count") >= 1);
        Assert.True(PrometheusText.Sum(metrics, "streamanomaly_batch_size_frames_count") >= 1);
        Assert.Contains("streamanomaly_cluster_members{role=\"worker\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("streamanomaly_camera_state{camera=\"line-a-cam1\",line=\"line-a\",state=\"online\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("streamanomaly_anomaly_score{camera=\"line-a-cam2\",line=\"line-a\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("streamanomaly_consumer_lag_messages{partition=", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_without_an_aggregator_in_its_cluster_is_healthy_but_not_ready_and_says_why()
    {
        var settings = PlantFixture.Plant(lines: 1, perLine: 1);
        await using var node = await PlantNode.StartAsync(settings with { Node = settings.Node with { Roles = [Cluster.PlantSharding.WorkerRole] } }, new NodeServices { Scorers = () => [fixture.Scorer()], Log = _ => { } });
        Assert.Equal("ok\n", await Http.GetStringAsync(new Uri(node.StatusAddress, "healthz")));
        using var ready = await Http.GetAsync(new Uri(node.StatusAddress, "readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("not ready: no reachable cluster member with role aggregator, which this node's roles need\n", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Malformed_frames_are_dead_lettered_and_counted_while_good_frames_keep_flowing()
    {
        var recorder = new PlantRecorder();
        await using var node = await PlantNode.StartAsync(PlantFixture.Plant(lines: 1, perLine: 1), new NodeServices { Scorers = () => [fixture.Scorer()], Observer = recorder, Log = _ => { } });
        Assert.True(await Eventually.True(() => recorder.Decided >= 5, TimeSpan.FromSeconds(60)));

        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = node.BootstrapServers }).Build())
        {
            for (var i = 0; i < 1000; i++)
            {
                var headers = new Headers { { "camera", Encoding.UTF8.GetBytes(i % 2 == 0 ? "line-a-cam1" : "ghost") } };
                producer.Produce(node.Settings.Kafka.FramesTopic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes("x"), Value = [0xFF, 0xD8, (byte)i], Headers = headers });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var decidedBefore = recorder.Decided;
        Assert.True(await Eventually.True(async () => PrometheusText.Sum(await Http.GetStringAsync(new Uri(node.StatusAddress, "metrics")), "streamanomaly_dead_letters_total") >= 1000, TimeSpan.FromSeconds(60)), "1000 dead letters counted");
        var metrics = await Http.GetStringAsync(new Uri(node.StatusAddress, "metrics"));
        Assert.Equal(1000, PrometheusText.Sum(metrics, "streamanomaly_dead_letters_total"));
        Assert.True(await Eventually.True(() => recorder.Decided >= decidedBefore + 10, TimeSpan.FromSeconds(30)), "good frames are still decided");
        Assert.Empty(recorder.Alarms);
    }

    [Fact]
    public async Task Anomalies_are_injected_over_http_and_bad_requests_are_refused()
    {
        var settings = PlantFixture.Plant(lines: 1, perLine: 1);
        await using var node = await PlantNode.StartAsync(settings with { Http = settings.Http with { AnomalyInjection = true } }, new NodeServices { Scorers = () => [fixture.Scorer()], Log = _ => { } });
        async Task<(HttpStatusCode, string)> Post(string path)
        {
            using var response = await Http.PostAsync(new Uri(node.StatusAddress, path), null);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await Post("cameras/line-a-cam1/anomalies?kind=dropped-part")).Item1);
        var (unknownKind, why) = await Post("cameras/line-a-cam1/anomalies?kind=volcano");
        Assert.Equal(HttpStatusCode.BadRequest, unknownKind);
        Assert.Contains("dropped-part", why, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Post("cameras/nowhere/anomalies?kind=dropped-part")).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post("cameras/line-a-cam1/anomalies")).Item1);
    }
}
