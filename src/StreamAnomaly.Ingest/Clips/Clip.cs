using OpenCvSharp;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Ingest.Clips;

/// <summary>
/// One clip on disk in the interchange format: a video file (.avi .mp4 .mkv .mov, read with
/// OpenCV's FFmpeg backend) or an image folder (.png .jpg .jpeg .bmp sorted by file name), with
/// optional <c>CLIP.labels.csv</c> and <c>CLIP.masks/KIND/NNNNNN.png</c> + <c>CLIP.masks/roi.png</c>
/// beside it. All frames of a clip have the size of frame 0; masks have the frame size.
/// Instances are immutable; frames are decoded lazily on each <see cref="ReadFrames"/> call.
/// </summary>
public sealed class Clip : ILabelledClip
{
    private readonly string _masksFolder;
    private (int Width, int Height)? _frameSize;

    private Clip(string name, string mediaPath, IReadOnlyList<FrameLabel>? labels)
    {
        Name = name;
        MediaPath = mediaPath;
        Labels = labels;
        _masksFolder = ClipLayout.MasksPath(Path.GetDirectoryName(mediaPath) ?? ".", name);
    }

    /// <summary>The clip name: the video file name without extension, or the image folder name.</summary>
    public string Name { get; }

    /// <summary>Full path of the video file or image folder.</summary>
    public string MediaPath { get; }

    /// <summary>Ground truth, one row per frame in order; null when the clip has no labels file.</summary>
    public IReadOnlyList<FrameLabel>? Labels { get; }

    /// <summary>True when the media is an image folder rather than a video file.</summary>
    public bool IsImageFolder => Directory.Exists(MediaPath);

    /// <summary>
    /// Opens one clip: checks the media exists, reads and validates its labels file when present
    /// (or throws when <paramref name="requireLabels"/> and it is absent), and checks the label
    /// count equals <see cref="CountFrames"/>. Throws <see cref="InvalidDataFileException"/>.
    /// </summary>
    public static Clip Open(string mediaPath, bool requireLabels = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(mediaPath);
        mediaPath = Path.GetFullPath(mediaPath.TrimEnd('/', '\\'));
        string name;
        if (Directory.Exists(mediaPath))
        {
            name = Path.GetFileName(mediaPath);
        }
        else if (File.Exists(mediaPath) && ClipLayout.IsVideo(mediaPath))
        {
            FileKinds.EnsureRegularOrMissing(mediaPath);
            name = Path.GetFileNameWithoutExtension(mediaPath);
        }
        else
        {
            throw new InvalidDataFileException(mediaPath, "not a clip (expected a .avi/.mp4/.mkv/.mov file or an image folder)");
        }

        var labelsPath = ClipLayout.LabelsPath(Path.GetDirectoryName(mediaPath) ?? ".", name);
        IReadOnlyList<FrameLabel>? labels = null;
        if (File.Exists(labelsPath))
        {
            labels = LabelsCsv.Read(labelsPath);
        }
        else if (requireLabels)
        {
            throw new InvalidDataFileException(labelsPath, $"labels file missing for clip '{name}'");
        }

        var clip = new Clip(name, mediaPath, labels);
        if (labels is not null)
        {
            var frames = clip.CountFrames();
            if (frames != labels.Count)
            {
                throw new InvalidDataFileException(labelsPath, $"has {labels.Count} label rows but clip '{name}' has {frames} frames");
            }
        }

        return clip;
    }

    /// <summary>
    /// Decodes the frames in order, lazily. Throws <see cref="InvalidDataFileException"/> naming the
    /// file for unreadable media, a corrupt image, a frame whose size differs from frame 0, or a
    /// labelled video that decodes to another number of frames than its labels (a truncated file
    /// whose container still declares the full count), once the last frame was read.
    /// </summary>
    public IEnumerable<Frame> ReadFrames() => IsImageFolder ? ReadImageFolder() : ReadVideo();

    /// <summary>
    /// Number of frames: the image count of a folder, or the container's frame count
    /// (<c>CAP_PROP_FRAME_COUNT</c>) of a video; <see cref="ClipDataset"/> checks it against the labels.
    /// </summary>
    public int CountFrames()
    {
        if (IsImageFolder)
        {
            return ClipLayout.ImageFiles(MediaPath).Length;
        }

        using var capture = OpenCapture();
        return (int)capture.Get(VideoCaptureProperties.FrameCount);
    }

    /// <summary>
    /// The mask of <paramref name="kind"/> (e.g. <c>normal-object</c>, <c>anomaly</c>, <c>person</c>)
    /// for a 0-based frame: null when the clip has no <c>CLIP.masks/KIND</c> folder at all, an empty
    /// mask when only this frame's file is missing. Throws <see cref="InvalidDataFileException"/> for
    /// an unreadable mask or one whose size differs from the frames.
    /// </summary>
    public BinaryMask? ReadMask(string kind, int frame)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentOutOfRangeException.ThrowIfNegative(frame);
        if (!ClipLayout.IsValidKind(kind))
        {
            throw new ArgumentException($"'{kind}' is not a mask kind (letters, digits, '-', '_', '+')", nameof(kind));
        }

        var folder = Path.Combine(_masksFolder, kind);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var path = Path.Combine(folder, ClipLayout.FrameFileName(frame));
        var (width, height) = FrameSize();
        return File.Exists(path) ? ReadSizedMask(path, width, height) : BinaryMask.Empty(width, height);
    }

    /// <summary>The static region of interest <c>CLIP.masks/roi.png</c>, or null when absent.</summary>
    public BinaryMask? ReadRoi()
    {
        var path = Path.Combine(_masksFolder, ClipLayout.RoiFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var (width, height) = FrameSize();
        return ReadSizedMask(path, width, height);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({MediaPath})";

    private BinaryMask ReadSizedMask(string path, int width, int height)
    {
        var mask = ImageCodec.ReadMask(path);
        if (mask.Width != width || mask.Height != height)
        {
            throw new InvalidDataFileException(path, $"mask is {mask.Width}x{mask.Height} but the clip's frames are {width}x{height}");
        }

        return mask;
    }

    private (int Width, int Height) FrameSize()
    {
        if (_frameSize is null)
        {
            var first = ReadFrames().FirstOrDefault()
                ?? throw new InvalidDataFileException(MediaPath, "clip has no frames");
            _frameSize = (first.Width, first.Height);
        }

        return _frameSize.Value;
    }

    private IEnumerable<Frame> ReadImageFolder()
    {
        var files = ClipLayout.ImageFiles(MediaPath);
        int? width = null, height = null;
        foreach (var file in files)
        {
            var frame = ImageCodec.ReadFrame(file);
            width ??= frame.Width;
            height ??= frame.Height;
            if (frame.Width != width || frame.Height != height)
            {
                throw new InvalidDataFileException(file, $"frame is {frame.Width}x{frame.Height} but frame 0 is {width}x{height}");
            }

            yield return frame;
        }
    }

    private IEnumerable<Frame> ReadVideo()
    {
        using var capture = OpenCapture();
        using var mat = new Mat();
        int? width = null, height = null;
        var index = 0;
        while (capture.Read(mat) && !mat.Empty())
        {
            width ??= mat.Width;
            height ??= mat.Height;
            if (mat.Width != width || mat.Height != height)
            {
                throw new InvalidDataFileException(MediaPath, $"frame {index} is {mat.Width}x{mat.Height} but frame 0 is {width}x{height}");
            }

            yield return ImageCodec.ToFrame(mat);
            index++;
        }

        if (index == 0)
        {
            throw new InvalidDataFileException(MediaPath, "no decodable frames (corrupt or unsupported video)");
        }

        if (Labels is not null && index != Labels.Count)
        {
            throw new InvalidDataFileException(MediaPath, $"only {index} frames decode but its labels list {Labels.Count} (a truncated or damaged video)");
        }
    }

    private VideoCapture OpenCapture()
    {
        if (!File.Exists(MediaPath))
        {
            throw new InvalidDataFileException(MediaPath, "video file not found");
        }

        FileKinds.EnsureRegularOrMissing(MediaPath);

        var capture = new VideoCapture(MediaPath, VideoCaptureAPIs.FFMPEG);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new InvalidDataFileException(MediaPath, "cannot open the video (corrupt or unsupported format)");
        }

        // The container's declared frame size, checked before a frame is decoded.
        if (ImageLimits.Default.Check(capture.FrameWidth, capture.FrameHeight) is { } tooLarge)
        {
            capture.Dispose();
            throw new InvalidDataFileException(MediaPath, tooLarge);
        }

        return capture;
    }
}
