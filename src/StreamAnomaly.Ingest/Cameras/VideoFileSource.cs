using System.Runtime.CompilerServices;
using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// A video file played as a camera through OpenCV's built-in FFmpeg backend (files only; OpenCV
/// cannot open http:// here). Frames come as fast as they decode: pacing to the camera's frame
/// rate is the pump's job (<see cref="IsLive"/> is false). With <c>loop</c> the file is reopened at
/// its end and played again forever; without, the enumeration ends after the last frame.
/// A missing file is a <see cref="FileNotFoundException"/>, a file OpenCV cannot open, that has
/// no frames or whose declared frame size is above <see cref="ImageLimits.Default"/> (checked
/// before decoding) an <see cref="InvalidDataException"/>; both name the path.
/// </summary>
public sealed class VideoFileSource : ICameraSource
{
    private readonly string _path;
    private readonly bool _loop;

    /// <param name="path">Video file (.avi, .mp4, .mkv, .mov, ...).</param>
    /// <param name="loop">Play again from the start at the end, forever.</param>
    public VideoFileSource(string path, bool loop)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
        _loop = loop;
    }

    /// <inheritdoc />
    public string Description => $"file {_path}{(_loop ? " (loop)" : "")}";

    /// <inheritdoc />
    public bool IsLive => false;

    /// <inheritdoc />
    public async IAsyncEnumerable<Frame> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        do
        {
            if (!File.Exists(_path))
            {
                throw new FileNotFoundException($"{_path}: video file not found", _path);
            }

            using var capture = new VideoCapture(_path, VideoCaptureAPIs.FFMPEG);
            if (!capture.IsOpened())
            {
                throw new InvalidDataException($"{_path}: OpenCV (FFmpeg backend) cannot open this file as a video");
            }

            // The container's declared frame size, checked before a frame is decoded.
            if (ImageLimits.Default.Check(capture.FrameWidth, capture.FrameHeight) is { } tooLarge)
            {
                throw new InvalidDataException($"{_path}: {tooLarge}");
            }

            using var mat = new Mat();
            var frames = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!capture.Read(mat) || mat.Empty())
                {
                    break;
                }

                frames++;
                yield return ImageCodec.ToFrame(mat);
                await Task.Yield();
            }

            if (frames == 0)
            {
                throw new InvalidDataException($"{_path}: the video has no readable frames");
            }
        }
        while (_loop);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
