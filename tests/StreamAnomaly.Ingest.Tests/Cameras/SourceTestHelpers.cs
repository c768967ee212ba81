using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Ingest.Tests.Clips;

namespace StreamAnomaly.Ingest.Tests.Cameras;

internal static class SourceTestHelpers
{
    /// <summary>Up to <paramref name="max"/> frames of one read of the source.</summary>
    public static async Task<List<Frame>> TakeAsync(ICameraSource source, int max, CancellationToken cancellationToken = default)
    {
        var frames = new List<Frame>();
        if (max <= 0)
        {
            return frames;
        }

        await foreach (var frame in source.ReadAsync(cancellationToken))
        {
            frames.Add(frame);
            if (frames.Count == max)
            {
                break;
            }
        }

        return frames;
    }

    /// <summary>Writes an MJPG .avi of <paramref name="count"/> smooth frames (index-dependent) at 10 fps.</summary>
    public static string WriteVideo(string path, int count, int width = 64, int height = 48)
    {
        using var writer = new VideoWriter(path, VideoCaptureAPIs.FFMPEG, FourCC.MJPG, 10, new Size(width, height), true);
        Assert.True(writer.IsOpened());
        for (var i = 0; i < count; i++)
        {
            using var mat = ImageCodec.ToMat(TestImages.Smooth(width, height, i));
            writer.Write(mat);
        }

        return path;
    }

    /// <summary>A frame of one colour.</summary>
    public static Frame Solid(int width, int height, byte b, byte g, byte r)
    {
        var bgr = new byte[width * height * 3];
        for (var i = 0; i < bgr.Length; i += 3)
        {
            (bgr[i], bgr[i + 1], bgr[i + 2]) = (b, g, r);
        }

        return new Frame(width, height, bgr);
    }

    /// <summary>A TCP port that was free a moment ago on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts ffmpeg with the given arguments, no shell, output discarded except stderr.</summary>
    public static Process StartFfmpeg(params string[] args)
    {
        var start = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start");
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    public static void KillQuietly(Process process)
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
        }

        process.Dispose();
    }
}
