using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace StreamAnomaly.Host.Http;

/// <summary>
/// The node's HTTP side: <c>/metrics</c> (Prometheus text format), <c>/healthz</c> (503 once an
/// essential part failed, so an orchestrator restarts the node) and <c>/readyz</c> (503 until the node's roles run, with the reason in the body),
/// and whatever <c>extra</c> maps; every protected route is behind <see cref="HttpAccess"/>.
/// Listens on 127.0.0.1 unless configured otherwise; port 0 picks a free one.
/// </summary>
public sealed class StatusServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StatusServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Base address actually bound, e.g. http://127.0.0.1:9464/.</summary>
    public Uri Address { get; }

    /// <summary>Starts serving; <paramref name="readiness"/> returns null when ready, else why not.</summary>
    public static async Task<StatusServer> StartAsync(IPEndPoint listen, CollectorRegistry registry, HttpAccess access, Func<string?> readiness, Action<WebApplication>? extra = null, Func<string?>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(access);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (access.Check(context.Request) is { } refusal)
            {
                context.Response.StatusCode = refusal.Status;
                if (refusal.Status == StatusCodes.Status401Unauthorized)
                {
                    context.Response.Headers.WWWAuthenticate = new(["Bearer realm=\"streamanomaly\"", "Basic realm=\"streamanomaly\", charset=\"UTF-8\""]);
                }

                await context.Response.WriteAsync($"refused: {refusal.Message}\n");
                return;
            }

            await next(context);
        });
        app.MapGet("/healthz", () => failure?.Invoke() is { } failed ? Results.Text($"failed: {failed}\n", statusCode: StatusCodes.Status503ServiceUnavailable) : Results.Text("ok\n"));
        app.MapGet("/readyz", () => readiness() is { } reason ? Results.Text($"not ready: {reason}\n", statusCode: StatusCodes.Status503ServiceUnavailable) : Results.Text("ready\n"));
        app.MapMetrics("/metrics", registry);
        extra?.Invoke(app);
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StatusServer(app, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
