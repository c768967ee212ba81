using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// Splits a <c>multipart/x-mixed-replace</c> byte stream (an HTTP MJPEG camera) into its parts'
/// bodies. Pure parsing over any <see cref="Stream"/>; decoding the bytes is the caller's job.
/// <para>Tolerated variations, all seen on real cameras: bytes before the first boundary
/// (preamble); the boundary written with or without leading dashes whatever the Content-Type
/// said; CRLF or bare LF line ends; parts with a <c>Content-Length</c> header (read exactly) or
/// without one (the body ends before the next boundary that starts a line, minus that line
/// break); chunks of any size split anywhere.</para>
/// <para>Invariants: a part body is returned only when complete; a part without Content-Length
/// cut off by the end of the stream is dropped (it has no terminating boundary); a part longer
/// than <c>maxPartBytes</c> is an <see cref="InvalidDataException"/> (bounds memory on a
/// garbage stream). Not thread-safe; one reader per stream.</para>
/// </summary>
public sealed class MultipartJpegReader
{
    /// <summary>Default bound on one part (headers + body), bytes: 32 MiB.</summary>
    public const int DefaultMaxPartBytes = 32 << 20;

    private static readonly byte[] NewLine = [(byte)'\n'];

    private readonly Stream _stream;
    private byte[]? _token;
    private readonly int _maxPartBytes;
    private byte[] _buffer = new byte[64 * 1024];
    private int _pos;
    private int _len;
    private bool _eof;
    private bool _closed;
    private bool _atPartStart;

    /// <param name="stream">The response body, positioned at its start.</param>
    /// <param name="boundary">
    /// The boundary from the Content-Type (leading dashes and quotes are ignored), or null to take
    /// it from the first line of the stream that starts with "--" (for servers that send a wrong
    /// Content-Type, such as ffmpeg's <c>-listen</c> HTTP server: application/octet-stream).
    /// </param>
    /// <param name="maxPartBytes">Largest accepted part in bytes (&gt; 0).</param>
    public MultipartJpegReader(Stream stream, string? boundary, int maxPartBytes = DefaultMaxPartBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPartBytes);
        if (boundary is not null)
        {
            var token = boundary.Trim().Trim('"').TrimStart('-');
            if (token.Length == 0)
            {
                throw new ArgumentException($"multipart boundary '{boundary}' is empty once its leading dashes are removed", nameof(boundary));
            }

            _token = Encoding.ASCII.GetBytes(token);
        }

        _stream = stream;
        _maxPartBytes = maxPartBytes;
    }

    /// <summary>The boundary without leading dashes; null until sniffed when none was given.</summary>
    public string? Boundary => _token is null ? null : Encoding.ASCII.GetString(_token);

    /// <summary>
    /// The boundary parameter of a multipart Content-Type such as
    /// <c>multipart/x-mixed-replace;boundary=ffmpeg</c>; anything else is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static string BoundaryFromContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            throw new InvalidDataException($"expected a multipart Content-Type with a boundary, got '{contentType}'");
        }

        if (media.MediaType is null || !media.MediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"expected a multipart Content-Type (multipart/x-mixed-replace), got '{contentType}'");
        }

        var boundary = media.Parameters.FirstOrDefault(p => string.Equals(p.Name, "boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
        if (string.IsNullOrWhiteSpace(boundary) || boundary.TrimStart('-').Length == 0)
        {
            throw new InvalidDataException($"the Content-Type '{contentType}' has no usable boundary parameter");
        }

        return boundary;
    }

    /// <summary>
    /// The next non-empty part body, or null when the stream ended (or a closing boundary
    /// <c>--token--</c> was read).
    /// </summary>
    public async ValueTask<byte[]?> ReadPartAsync(CancellationToken cancellationToken)
    {
        if (_token is null && !await SniffBoundaryAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var token = _token!;
        while (!_closed)
        {
            if (!_atPartStart)
            {
                // Skip to the next boundary (preamble, the CRLF after a Content-Length body, anything).
                var at = await FindAsync(token, 0, requireLineStart: false, cancellationToken).ConfigureAwait(false);
                if (at < 0)
                {
                    return null;
                }

                var after = at + token.Length;
                while (Available < after + 2 && await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                }

                if (Available >= after + 2 && _buffer[_pos + after] == (byte)'-' && _buffer[_pos + after + 1] == (byte)'-')
                {
                    _closed = true;
                    return null;
                }

                var lineEnd = await FindAsync(NewLine, after, requireLineStart: false, cancellationToken).ConfigureAwait(false);
                if (lineEnd < 0)
                {
                    return null;
                }

                Consume(lineEnd + 1);
                _atPartStart = true;
            }

            // Headers up to an empty line.
            long? contentLength = null;
            while (true)
            {
                var lineEnd = await FindAsync(NewLine, 0, requireLineStart: false, cancellationToken).ConfigureAwait(false);
                if (lineEnd < 0)
                {
                    return null;
                }

                var line = Encoding.ASCII.GetString(_buffer, _pos, lineEnd).TrimEnd('\r');
                Consume(lineEnd + 1);
                if (line.Length == 0)
                {
                    break;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    if (!long.TryParse(line[(colon + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > _maxPartBytes)
                    {
                        throw new InvalidDataException($"multipart part has an invalid or too large Content-Length: '{line}' (limit {_maxPartBytes} bytes)");
                    }

                    contentLength = length;
                }
            }

            byte[] body;
            if (contentLength is { } n)
            {
                while (Available < n)
                {
                    if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }
                }

                body = _buffer.AsSpan(_pos, (int)n).ToArray();
                Consume((int)n);
                _atPartStart = false;
            }
            else
            {
                var at = await FindAsync(token, 0, requireLineStart: true, cancellationToken).ConfigureAwait(false);
                if (at < 0)
                {
                    return null;
                }

                var end = at;
                while (end > 0 && _buffer[_pos + end - 1] == (byte)'-')
                {
                    end--;
                }

                if (end > 0 && _buffer[_pos + end - 1] == (byte)'\n')
                {
                    end--;
                }

                if (end > 0 && _buffer[_pos + end - 1] == (byte)'\r')
                {
                    end--;
                }

                body = _buffer.AsSpan(_pos, end).ToArray();
                Consume(end);
                _atPartStart = false;
            }

            if (body.Length > 0)
            {
                return body;
            }
        }

        return null;
    }

    /// <summary>Takes the boundary from the first line starting with "--"; false at the end of the stream.</summary>
    private async ValueTask<bool> SniffBoundaryAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var lineEnd = await FindAsync(NewLine, 0, requireLineStart: false, cancellationToken).ConfigureAwait(false);
            if (lineEnd < 0)
            {
                return false;
            }

            var line = Encoding.ASCII.GetString(_buffer, _pos, lineEnd).Trim();
            Consume(lineEnd + 1);
            if (line.StartsWith("--", StringComparison.Ordinal) && line.TrimStart('-').Length > 0)
            {
                _token = Encoding.ASCII.GetBytes(line.TrimStart('-'));
                _atPartStart = true;
                return true;
            }
        }
    }

    private int Available => _len - _pos;

    private void Consume(int count) => _pos += count;

    /// <summary>
    /// Offset (from the current position) of the first occurrence of <paramref name="pattern"/> at or
    /// after <paramref name="from"/>, reading more as needed; -1 at the end of the stream. With
    /// <paramref name="requireLineStart"/>, only an occurrence that (after any run of dashes before
    /// it) starts a line or the searched region counts.
    /// </summary>
    private async ValueTask<int> FindAsync(byte[] pattern, int from, bool requireLineStart, CancellationToken cancellationToken)
    {
        var scan = from;
        while (true)
        {
            var window = _buffer.AsSpan(_pos, Available);
            while (scan <= window.Length - pattern.Length)
            {
                var hit = window[scan..].IndexOf(pattern);
                if (hit < 0)
                {
                    break;
                }

                var at = scan + hit;
                if (!requireLineStart || StartsLine(window, at))
                {
                    return at;
                }

                scan = at + 1;
            }

            scan = Math.Max(from, window.Length - pattern.Length + 1);
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return -1;
            }
        }
    }

    private static bool StartsLine(ReadOnlySpan<byte> window, int at)
    {
        var j = at;
        while (j > 0 && window[j - 1] == (byte)'-')
        {
            j--;
        }

        return j == 0 || window[j - 1] == (byte)'\n';
    }

    /// <summary>Reads more bytes after the current ones; false at the end of the stream.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof)
        {
            return false;
        }

        if (_pos > 0)
        {
            Buffer.BlockCopy(_buffer, _pos, _buffer, 0, Available);
            _len -= _pos;
            _pos = 0;
        }

        if (_len == _buffer.Length)
        {
            if (_buffer.Length >= _maxPartBytes + 4096)
            {
                throw new InvalidDataException($"multipart part larger than {_maxPartBytes} bytes (or no boundary '{Boundary ?? "(not yet seen)"}' found)");
            }

            Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, _maxPartBytes + 4096L));
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_len), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _eof = true;
            return false;
        }

        _len += read;
        return true;
    }
}
