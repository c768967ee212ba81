using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// Anything ffmpeg can read (rtsp://, http://, HLS, files) as a live camera: each
/// <see cref="ReadAsync"/> spawns
/// <c>ffmpeg -nostdin -loglevel error -i URL -f rawvideo -pix_fmt bgr24 -vf scale=W:H -</c>
/// and reads frames of exactly <c>W * H * 3</c> bytes from its standard output. The process is
/// killed when the enumeration stops (disposed, cancelled or failed). When ffmpeg exits, for any
/// reason, the enumeration throws an <see cref="IOException"/> carrying its exit code and the tail
/// of its standard error, so the pump reconnects. A missing ffmpeg executable is an
/// <see cref="InvalidOperationException"/> that says so.
/// </summary>
public sealed class FfmpegSource : ICameraSource
{
    /// <summary>Characters of ffmpeg's standard error kept for error messages.</summary>
    public const int StderrTailChars = 2000;

    private readonly string _url;
    private readonly int _width;
    private readonly int _height;
    private readonly string _ffmpeg;

    /// <param name="url">Input for <c>ffmpeg -i</c>.</param>
    /// <param name="width">Output frame width in pixels (&gt; 0); ffmpeg scales to it.</param>
    /// <param name="height">Output frame height in pixels (&gt; 0).</param>
    /// <param name="ffmpegPath">The ffmpeg executable: a name looked up on PATH or a path.</param>
    public FfmpegSource(string url, int width, int height, string ffmpegPath = "ffmpeg")
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentException.ThrowIfNullOrEmpty(ffmpegPath);
        _url = url;
        _width = width;
        _height = height;
        _ffmpeg = ffmpegPath;
    }

    /// <inheritdoc />
    public string Description => $"ffmpeg {_url} ({_width}x{_height})";

    /// <inheritdoc />
    public bool IsLive => true;

    /// <inheritdoc />
    public async IAsyncEnumerable<Frame> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-nostdin", "-loglevel", "error", "-i", _url, "-f", "rawvideo", "-pix_fmt", "bgr24",
                     "-vf", string.Create(CultureInfo.InvariantCulture, $"scale={_width}:{_height}"), "-",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        var stderr = new StderrTail();
        process.ErrorDataReceived += (_, e) => stderr.Add(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException(
                $"{Description}: cannot start '{_ffmpeg}' ({ex.Message}); install ffmpeg (Debian package 'ffmpeg') or put it on PATH", ex);
        }

        process.BeginErrorReadLine();
        // Killing the process also ends a pipe read that would not observe the token.
        using var killOnCancel = cancellationToken.Register(static p => Kill((Process)p!), process);
        try
        {
            var stdout = process.StandardOutput.BaseStream;
            var frameBytes = checked(_width * _height * 3);
            var count = 0L;
            while (true)
            {
                var bgr = new byte[frameBytes];
                var read = await stdout.ReadAtLeastAsync(bgr, frameBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read < frameBytes)
                {
                    break;
                }

                count++;
                yield return new Frame(_width, _height, bgr);
            }

            cancellationToken.ThrowIfCancellationRequested();
            using var exitWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            exitWait.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(exitWait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Closed its output but did not exit: reported below as still running.
            }

            var code = process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "(still running)";
            throw new IOException($"{Description}: ffmpeg stopped after {count} frames, exit code {code}; stderr: {stderr.Text}");
        }
        finally
        {
            Kill(process);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>The last <see cref="StderrTailChars"/> characters of ffmpeg's standard error; thread-safe.</summary>
    private sealed class StderrTail
    {
        private readonly Lock _lock = new();
        private readonly Queue<string> _lines = new();
        private int _chars;

        public string Text
        {
            get
            {
                lock (_lock)
                {
                    return _lines.Count == 0 ? "(empty)" : string.Join(" | ", _lines);
                }
            }
        }

        public void Add(string? line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                return;
            }

            lock (_lock)
            {
                _lines.Enqueue(line.Trim());
                _chars += line.Length;
                while (_chars > StderrTailChars && _lines.Count > 1)
                {
                    _chars -= _lines.Dequeue().Length;
                }
            }
        }
    }
}
