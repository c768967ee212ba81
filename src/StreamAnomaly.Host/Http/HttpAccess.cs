using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Host.Metrics;
using StreamAnomaly.Host.Settings;

namespace StreamAnomaly.Host.Http;

/// <summary>Why a request was refused: its HTTP status, the metric's reason label and a line for the body.</summary>
public sealed record HttpRefusal(int Status, string Reason, string Message);

/// <summary>
/// Who may use a node's protected routes: every state-changing request (anything but GET and HEAD)
/// and everything under <c>/dashboard</c> (the page, its snapshots, live frames and event stream)
/// and <c>/alarms</c> (alarm evidence: frames of the plant).
/// <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> stay open for scrapers and probes.
/// A protected request must name an allowed host (<see cref="HttpSettings.AllowedHosts"/>; on a
/// loopback listener only the loopback names, which defeats DNS rebinding), must come from the
/// node's own origin when a browser sends an <c>Origin</c> header (a state-changing request or the
/// event stream from another site's page), and, when a token is configured, must carry it:
/// <c>Authorization: Bearer TOKEN</c>, or HTTP Basic with the token as password (what a browser
/// can send to the dashboard after its password prompt). A node that listens beyond loopback
/// always has a token (<see cref="PlantSettings.Validate"/>). Refusals are counted in
/// <c>streamanomaly_http_refused_total{reason}</c>.
/// </summary>
public sealed class HttpAccess
{
    /// <summary>Fewest characters a token may have: 16 random characters are beyond guessing over HTTP.</summary>
    public const int MinTokenLength = 16;

    /// <summary>Largest token file read (a token is one line).</summary>
    public const int MaxTokenFileBytes = 4096;

    /// <summary>Values of the reason label of <c>streamanomaly_http_refused_total</c>.</summary>
    public static readonly IReadOnlyList<string> Reasons = ["host", "origin", "unauthorized", "event-streams-full"];

    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]", "::1"];

    private readonly byte[]? _token;
    private readonly string[] _hosts;
    private readonly PipelineMetrics _metrics;
    private int _streams;

    private HttpAccess(byte[]? token, string[] hosts, int maxEventStreams, PipelineMetrics metrics)
    {
        _token = token;
        _hosts = hosts;
        MaxEventStreams = maxEventStreams;
        _metrics = metrics;
    }

    /// <summary>Most dashboard event streams open at once.</summary>
    public int MaxEventStreams { get; }

    /// <summary>True when protected routes need the token.</summary>
    public bool RequiresToken => _token is not null;

    /// <summary>
    /// The access rules of <paramref name="settings"/>: the token from <see cref="HttpSettings.Token"/>
    /// or read from <see cref="HttpSettings.TokenFile"/>. Throws <see cref="InvalidConfigurationException"/>
    /// naming the key when the file is missing, not a regular file, too big or the token too short.
    /// </summary>
    public static HttpAccess From(HttpSettings settings, PipelineMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(metrics);
        var token = string.IsNullOrEmpty(settings.TokenFile) ? settings.Token : ReadTokenFile(settings.TokenFile);
        if (token is not null && token.Trim().Length < MinTokenLength)
        {
            var key = string.IsNullOrEmpty(settings.TokenFile) ? "Http:Token" : $"Http:TokenFile ({settings.TokenFile})";
            throw new InvalidConfigurationException([$"{key}: the token needs at least {MinTokenLength} characters (make one with `openssl rand -hex 32`)"]);
        }

        string[] hosts = settings.AllowedHosts.Length > 0 ? settings.AllowedHosts
            : settings.IsLoopback ? LoopbackNames
            : [];
        return new HttpAccess(token is null ? null : Encoding.UTF8.GetBytes(token.Trim()), hosts, settings.MaxEventStreams, metrics);
    }

    /// <summary>Null when <paramref name="request"/> may go on, else why not (counted).</summary>
    public HttpRefusal? Check(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var refusal = Refuse(request);
        if (refusal is not null)
        {
            _metrics.HttpRefused.WithLabels(refusal.Reason).Inc();
        }

        return refusal;
    }

    /// <summary>Takes one of the <see cref="MaxEventStreams"/> event stream slots; false (counted) when all are taken.</summary>
    public bool TryOpenEventStream()
    {
        if (Interlocked.Increment(ref _streams) > MaxEventStreams)
        {
            Interlocked.Decrement(ref _streams);
            _metrics.HttpRefused.WithLabels("event-streams-full").Inc();
            return false;
        }

        _metrics.EventStreams.Inc();
        return true;
    }

    /// <summary>Gives back a slot taken by <see cref="TryOpenEventStream"/>.</summary>
    public void CloseEventStream()
    {
        Interlocked.Decrement(ref _streams);
        _metrics.EventStreams.Dec();
    }

    /// <summary>GET and HEAD outside /dashboard and /alarms are open; everything else is protected.</summary>
    private static bool IsProtected(HttpRequest request) =>
        !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        || request.Path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase)
        || request.Path.StartsWithSegments("/alarms", StringComparison.OrdinalIgnoreCase);

    private static bool IsEventStream(HttpRequest request) => request.Path.StartsWithSegments("/dashboard/events", StringComparison.OrdinalIgnoreCase);

    private HttpRefusal? Refuse(HttpRequest request)
    {
        if (!IsProtected(request))
        {
            return null;
        }

        var host = request.Host.Host;
        if (_hosts.Length > 0 && !_hosts.Contains(host, StringComparer.OrdinalIgnoreCase))
        {
            return new HttpRefusal(StatusCodes.Status403Forbidden, "host", $"host '{host}' is not one this node answers to (Http:AllowedHosts)");
        }

        var stateChanging = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method));
        if ((stateChanging || IsEventStream(request)) && request.Headers.Origin is { Count: > 0 } origin && !SameOrigin(origin.ToString(), request))
        {
            return new HttpRefusal(StatusCodes.Status403Forbidden, "origin", $"origin '{origin}' is not this node's; requests from other sites' pages are refused");
        }

        if (_token is not null && !Authorized(request.Headers.Authorization.ToString()))
        {
            return new HttpRefusal(StatusCodes.Status401Unauthorized, "unauthorized", "this route needs the node's token: Authorization: Bearer TOKEN (Http:TokenFile)");
        }

        return null;
    }

    /// <summary>True when <paramref name="origin"/> is http(s)://HOST[:PORT] of the request's own Host header.</summary>
    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
        && uri.AbsolutePath == "/";

    private bool Authorized(string header)
    {
        string? given = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            given = header["Bearer ".Length..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                given = pair[(pair.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return given is not null && CryptographicOperations.FixedTimeEquals(_token, Encoding.UTF8.GetBytes(given));
    }

    private static string ReadTokenFile(string path)
    {
        var kind = FileKinds.Of(path);
        var problem = kind switch
        {
            FileKind.Missing => "token file not found",
            FileKind.Regular when new FileInfo(path).Length > MaxTokenFileBytes => $"a token file holds one line, not more than {MaxTokenFileBytes} bytes",
            FileKind.Regular => null,
            _ => $"is {FileKinds.Describe(kind)}, not a regular file",
        };
        if (problem is not null)
        {
            throw new InvalidConfigurationException([$"Http:TokenFile ({path}): {problem}"]);
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidConfigurationException([$"Http:TokenFile ({path}): cannot read it ({e.Message})"]);
        }
    }
}
