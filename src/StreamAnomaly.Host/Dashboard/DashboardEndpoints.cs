using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using StreamAnomaly.Host.Http;

namespace StreamAnomaly.Host.Dashboard;

/// <summary>
/// The dashboard's routes on the node's status server: <c>GET /dashboard</c> (one static page,
/// no build step), <c>GET /dashboard/events</c> (Server-Sent Events: a JSON snapshot every
/// <see cref="Interval"/>), <c>GET /dashboard/snapshot</c> (the same JSON once) and
/// <c>GET /dashboard/cameras/{camera}/frame.jpg</c> (latest JPEG, 404 when none yet); and the
/// evidence of recent alarms: <c>GET /alarms</c> (newest first), <c>GET /alarms/{id}</c>
/// (<see cref="AlarmEvidenceStore.Json"/>) and <c>GET /alarms/{id}/cameras/{camera}/frame.jpg</c>
/// (404 for an alarm unknown or evicted). At most
/// <see cref="HttpAccess.MaxEventStreams"/> event streams are open at once; more get 503.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Time between two pushed snapshots.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("StreamAnomaly.dashboard.html")
            ?? throw new InvalidOperationException("embedded resource StreamAnomaly.dashboard.html is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void Map(WebApplication app, DashboardState state, HttpAccess access, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        app.MapGet("/dashboard", () => Results.Bytes(Page.Value, "text/html; charset=utf-8"));
        app.MapGet("/dashboard/snapshot", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(state.SnapshotJson(), "application/json");
        });
        app.MapGet("/dashboard/cameras/{camera}/frame.jpg", (string camera, HttpContext context) =>
        {
            if (state.LatestFrame(camera) is not { } frame)
            {
                return Results.NotFound();
            }

            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers["X-Frame-Version"] = frame.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Bytes(frame.Jpeg, "image/jpeg");
        });
        app.MapGet("/alarms", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(state.EvidenceList().Select(static e => new
            {
                id = e.Alarm.AlarmId,
                line = e.Alarm.Line,
                phase = e.Alarm.Phase.ToString().ToLowerInvariant(),
                at = e.Alarm.At.ToUnixTimeMilliseconds(),
                peak = Math.Round(e.Alarm.PeakScore, 4),
                cameras = e.Alarm.Cameras,
                url = $"/alarms/{Uri.EscapeDataString(e.Alarm.AlarmId)}",
            }));
        });
        app.MapGet("/alarms/{id}", (string id, HttpContext context) =>
        {
            if (state.Evidence(id) is not { } evidence)
            {
                return Results.NotFound($"no evidence kept for alarm '{id}' (unknown, or evicted: Http:MaxAlarmEvidence)");
            }

            context.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(AlarmEvidenceStore.Json(evidence), "application/json");
        });
        app.MapGet("/alarms/{id}/cameras/{camera}/frame.jpg", (string id, string camera) =>
            state.Evidence(id)?.Cameras.FirstOrDefault(c => c.Camera == camera)?.Jpeg is { } jpeg
                ? Results.Bytes(jpeg, "image/jpeg")
                : Results.NotFound());
        app.MapGet("/dashboard/events", async (HttpContext context) =>
        {
            if (!access.TryOpenEventStream())
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "10";
                await context.Response.WriteAsync($"refused: {access.MaxEventStreams} event streams are open already (Http:MaxEventStreams)\n");
                return;
            }

            try
            {
                await StreamAsync(context, state, time, app.Lifetime.ApplicationStopping);
            }
            finally
            {
                access.CloseEventStream();
            }
        });
    }

    private static async Task StreamAsync(HttpContext context, DashboardState state, TimeProvider time, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        var prefix = "data: "u8.ToArray();
        var suffix = "\n\n"u8.ToArray();
        try
        {
            await response.WriteAsync("retry: 2000\n\n", cancel.Token);
            while (!cancel.IsCancellationRequested)
            {
                await response.Body.WriteAsync(prefix, cancel.Token);
                await response.Body.WriteAsync(state.SnapshotJson(), cancel.Token);
                await response.Body.WriteAsync(suffix, cancel.Token);
                await response.Body.FlushAsync(cancel.Token);
                await Task.Delay(Interval, time, cancel.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }
}
