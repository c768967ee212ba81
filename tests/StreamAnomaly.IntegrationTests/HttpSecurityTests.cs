using System.Net;
using System.Net.Http.Headers;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// Who may use a node's HTTP side: anomaly injection only when configured, the token on
/// commands and the dashboard, Host and Origin checks, the event stream cap, and the refusal to
/// start a node reachable from other machines without a token. Real nodes (one synthetic camera,
/// a detector that scores every frame 0) on the loopback interface.
/// </summary>
[Collection(nameof(PlantCollection))]
public sealed class HttpSecurityTests : IDisposable
{
    private const string Token = "0123456789abcdef0123456789abcdef";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };

    public void Dispose() => _http.Dispose();

    private static Task<PlantNode> StartAsync(Func<HttpSettings, HttpSettings> http)
    {
        var settings = PlantFixture.Plant(lines: 1, perLine: 1);
        return PlantNode.StartAsync(settings with { Http = http(settings.Http) }, new NodeServices { Scorers = () => [new ZeroScorer()], Log = _ => { } });
    }

    private static HttpRequestMessage Inject(PlantNode node) => new(HttpMethod.Post, new Uri(node.StatusAddress, "cameras/line-a-cam1/anomalies?kind=dropped-part"));

    private async Task<double> Refused(PlantNode node, string reason) =>
        PrometheusText.Sum(await _http.GetStringAsync(new Uri(node.StatusAddress, "metrics")), "streamanomaly_http_refused_total", $"reason=\"{reason}\"");

    [Fact]
    public async Task Anomaly_injection_is_not_served_unless_configured()
    {
        await using var node = await StartAsync(h => h);

        using var response = await _http.SendAsync(Inject(node));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task An_unauthenticated_post_is_refused_when_a_token_is_configured()
    {
        await using var node = await StartAsync(h => h with { AnomalyInjection = true, Token = Token });

        using var anonymous = await _http.SendAsync(Inject(node));
        var authorised = Inject(node);
        authorised.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var withToken = await _http.SendAsync(authorised);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(1, await Refused(node, "unauthorized"));
    }

    [Fact]
    public async Task A_post_from_another_sites_page_is_refused()
    {
        await using var node = await StartAsync(h => h with { AnomalyInjection = true });
        var request = Inject(node);
        request.Headers.Add("Origin", "http://attacker.example");

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("origin 'http://attacker.example'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await Refused(node, "origin"));
    }

    [Fact]
    public async Task An_event_stream_opened_from_another_sites_page_is_refused()
    {
        await using var node = await StartAsync(h => h);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.StatusAddress, "dashboard/events"));
        request.Headers.Add("Origin", "http://attacker.example");

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_request_naming_another_host_is_refused_on_a_loopback_listener()
    {
        await using var node = await StartAsync(h => h);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.StatusAddress, "dashboard/snapshot"));
        request.Headers.Host = "rebound.attacker.example";

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(1, await Refused(node, "host"));
    }

    [Fact]
    public async Task Event_streams_beyond_the_cap_are_refused_and_counted()
    {
        await using var node = await StartAsync(h => h with { MaxEventStreams = 2 });
        var events = new Uri(node.StatusAddress, "dashboard/events");

        using var first = await _http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead);
        using var second = await _http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead);
        using var third = await _http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable], new[] { first.StatusCode, second.StatusCode, third.StatusCode });
        var metrics = await _http.GetStringAsync(new Uri(node.StatusAddress, "metrics"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "streamanomaly_http_refused_total", "reason=\"event-streams-full\""));
        Assert.Equal(2, PrometheusText.Sum(metrics, "streamanomaly_dashboard_event_streams"));
    }

    [Fact]
    public async Task A_node_listening_beyond_loopback_needs_the_token_for_the_dashboard_but_not_for_metrics()
    {
        await using var node = await StartAsync(h => h with { Listen = "0.0.0.0:0", Token = Token });
        var local = new UriBuilder(node.StatusAddress) { Host = "127.0.0.1" }.Uri;

        using var anonymous = await _http.GetAsync(new Uri(local, "dashboard"));
        using var browser = new HttpRequestMessage(HttpMethod.Get, new Uri(local, "dashboard"));
        browser.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"operator:{Token}")));
        using var withPassword = await _http.SendAsync(browser);
        using var metrics = await _http.GetAsync(new Uri(local, "metrics"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Equal(HttpStatusCode.OK, withPassword.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task A_node_listening_beyond_loopback_without_a_token_is_refused_at_start()
    {
        var error = await Assert.ThrowsAsync<InvalidConfigurationException>(() => StartAsync(h => h with { Listen = "0.0.0.0:0" }));

        var problem = Assert.Single(error.Errors);
        Assert.StartsWith("Http:Listen 0.0.0.0:0 is reachable from other machines, so the dashboard and commands need a token: set Http:TokenFile", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_file_holding_too_short_a_token_is_refused_at_start()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "secret\n");
            var error = await Assert.ThrowsAsync<InvalidConfigurationException>(() => StartAsync(h => h with { Listen = "0.0.0.0:0", TokenFile = file }));
            Assert.Equal($"Http:TokenFile ({file}): the token needs at least 16 characters (make one with `openssl rand -hex 32`)", Assert.Single(error.Errors));
        }
        finally
        {
            File.Delete(file);
        }
    }

}
