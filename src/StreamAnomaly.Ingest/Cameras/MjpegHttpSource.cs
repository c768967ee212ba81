using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// A live HTTP MJPEG camera: one GET whose response is <c>multipart/x-mixed-replace</c>, each part
/// a JPEG (parsed by <see cref="MultipartJpegReader"/>, decoded to BGR by OpenCV). Every
/// <see cref="ReadAsync"/> opens a new connection. A non-success status, a stream without
/// a boundary line, a corrupt JPEG and the end of the response all throw (a live stream never ends
/// normally), so the caller reconnects. The <see cref="HttpClient"/> is not owned (not disposed);
/// give it an infinite <see cref="HttpClient.Timeout"/> or the stream is cut after it.
/// </summary>
public sealed class MjpegHttpSource : ICameraSource
{
    private readonly Uri _uri;
    private readonly HttpClient _http;

    /// <param name="uri">Absolute http:// or https:// address of the stream.</param>
    /// <param name="http">Client used for the request (not disposed by this source).</param>
    public MjpegHttpSource(Uri uri, HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(http);
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"an MJPEG source needs an absolute http:// or https:// address, got '{uri}'", nameof(uri));
        }

        _uri = uri;
        _http = http;
    }

    /// <inheritdoc />
    public string Description => $"mjpeg {_uri}";

    /// <inheritdoc />
    public bool IsLive => true;

    /// <inheritdoc />
    public async IAsyncEnumerable<Frame> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("multipart/x-mixed-replace"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{Description}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        // A multipart Content-Type gives the boundary; anything else (ffmpeg's -listen server says
        // application/octet-stream) leaves it to be read from the stream's first boundary line.
        var contentType = response.Content.Headers.ContentType?.ToString();
        string? boundary = null;
        if (contentType is not null && contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                boundary = MultipartJpegReader.BoundaryFromContentType(contentType);
            }
            catch (InvalidDataException)
            {
                boundary = null;
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var reader = new MultipartJpegReader(body, boundary);
        var count = 0L;
        while (await reader.ReadPartAsync(cancellationToken).ConfigureAwait(false) is { } part)
        {
            Frame frame;
            try
            {
                frame = ImageCodec.DecodeFrame(part);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"{Description}: part {count}: {ex.Message}", ex);
            }

            count++;
            yield return frame;
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new IOException($"{Description}: the stream ended after {count} frames");
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
