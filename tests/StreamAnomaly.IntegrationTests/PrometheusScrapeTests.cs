using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamAnomaly.Host;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// A real Prometheus server (Debian's `prometheus`) scrapes a running node, and every PromQL
/// expression of the Grafana dashboard is evaluated through Prometheus's HTTP API.
/// </summary>
[Collection(nameof(PlantCollection))]
public sealed partial class PrometheusScrapeTests(PlantFixture fixture) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("prometheus-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StreamAnomaly.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("StreamAnomaly.sln not found above the test binaries");
    }

    /// <summary>Every "expr" of the dashboard's panels, Grafana macros and variables replaced by values Prometheus takes.</summary>
    private static List<string> DashboardExpressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "deploy", "grafana", "streamanomaly-dashboard.json")));
        var expressions = new List<string>();
        void Walk(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String)
                        {
                            expressions.Add(p.Value.GetString()!);
                        }
                        else if (p.Name != "templating")
                        {
                            Walk(p.Value);
                        }
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
            }
        }

        Walk(dashboard.RootElement);
        return expressions.Select(x => GrafanaVariable().Replace(x.Replace("$__rate_interval", "1m").Replace("$__interval", "1m").Replace("$__range", "5m"), ".*")).ToList();
    }

    [GeneratedRegex(@"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")]
    private static partial Regex GrafanaVariable();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Prometheus_scrapes_a_running_node_and_every_dashboard_expression_returns_data()
    {
        var expressions = DashboardExpressions();
        Assert.NotEmpty(expressions);
        await using var node = await PlantNode.StartAsync(PlantFixture.Plant(lines: 2, perLine: 1), new NodeServices { Scorers = () => [fixture.Scorer(), fixture.CycleScorer()], Log = _ => { } });

        var port = FreePort();
        var config = Path.Combine(_root, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: streamanomaly
                static_configs:
                  - targets: ["{node.StatusAddress.Authority}"]
            """);
        using var prometheus = Process.Start(new ProcessStartInfo("prometheus",
            [$"--config.file={config}", $"--web.listen-address=127.0.0.1:{port}", $"--storage.tsdb.path={Path.Combine(_root, "data")}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var log = new System.Text.StringBuilder();
        prometheus.ErrorDataReceived += (_, e) => log.AppendLine(e.Data);
        prometheus.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Assert.True(await Eventually.True(() => Ready(http), TimeSpan.FromSeconds(30)), "prometheus ready\n" + log);

            // an anomaly (alarm series move) and a bad message (dead letters move) during the scrape
            Assert.Null((await node.InjectAsync("line-b-cam1", "foreign-object-beside-belt")).Error);
            Assert.True(await Eventually.True(async () => (await Query(http, "sum(streamanomaly_frames_decided_total) > 20")).Count > 0, TimeSpan.FromSeconds(60)), "decided frames scraped\n" + log);
            Assert.True(await Eventually.True(async () => (await Query(http, "up{job=\"streamanomaly\"} == 1")).Count == 1, TimeSpan.FromSeconds(10)));
            // two wraps of a 6 s machine cycle complete the first cycle a camera can time
            Assert.True(await Eventually.True(async () => (await Query(http, "streamanomaly_cycle_seconds_count > 0")).Count > 0, TimeSpan.FromSeconds(60)), "cycles scraped\n" + log);
            await Task.Delay(TimeSpan.FromSeconds(5));

            var empty = new List<string>();
            foreach (var expression in expressions)
            {
                if ((await Query(http, expression)).Count == 0)
                {
                    empty.Add(expression);
                }
            }

            Assert.True(empty.Count == 0, "expressions without data:\n" + string.Join("\n", empty));
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }

    private static async Task<bool> Ready(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("-/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Evaluates an instant query; throws when Prometheus refuses it (a malformed expression), returns the result vector.</summary>
    private static async Task<List<JsonElement>> Query(HttpClient http, string expression)
    {
        using var response = await http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(expression));
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("status").GetString() == "success", $"{expression}: {body}");
        var data = json.RootElement.GetProperty("data");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" or "matrix" => data.GetProperty("result").EnumerateArray().Select(static r => r.Clone()).ToList(),
            _ => [data.GetProperty("result").Clone()],
        };
    }
}
