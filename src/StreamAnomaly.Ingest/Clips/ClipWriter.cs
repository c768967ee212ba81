using OpenCvSharp;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Ingest.Clips;

/// <summary>How <see cref="ClipWriter"/> stores frames.</summary>
public enum ClipStorage
{
    /// <summary><c>CLIP.avi</c>, Motion-JPEG (lossy, small, what most tools read).</summary>
    MjpgAvi,

    /// <summary><c>CLIP/NNNNNN.png</c>, one lossless PNG per frame.</summary>
    PngFolder,
}

/// <summary>
/// Writes one clip in the interchange format. Everything goes to a hidden staging folder
/// <c>FOLDER/.CLIP.writing-RANDOM/</c> (a new folder, so nothing planted there is written through); <see cref="Complete"/> moves the masks, the media and finally the
/// labels to their final names, so readers never see a half-written clip under a final name.
/// <see cref="Dispose"/> without <see cref="Complete"/> deletes the staging folder.
/// Masks are stored only for frames where they are non-empty; a kind's folder exists as soon as
/// that kind is passed once, so readers can tell "empty" from "not annotated". Not thread-safe.
/// </summary>
public sealed class ClipWriter : IDisposable
{
    private readonly string _folder;
    private readonly string _name;
    private readonly double _fps;
    private readonly ClipStorage _storage;
    private readonly string _staging;
    private readonly List<FrameLabel> _labels = [];
    private readonly HashSet<string> _kinds = new(StringComparer.Ordinal);
    private VideoWriter? _video;
    private BinaryMask? _roi;
    private int _width;
    private int _height;
    private bool _completed;
    private bool _disposed;

    /// <summary>
    /// Starts a clip named <paramref name="name"/> in <paramref name="folder"/> (created if missing)
    /// at <paramref name="fps"/> frames per second (&gt; 0). Throws <see cref="IOException"/> if any
    /// of the clip's final files already exist.
    /// </summary>
    public ClipWriter(string folder, string name, double fps, ClipStorage storage = ClipStorage.MjpgAvi)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!ClipLayout.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid clip name (a file name without separators or leading '.')", nameof(name));
        }

        if (!double.IsFinite(fps) || fps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fps), fps, "frames per second must be finite and > 0");
        }

        if (!Enum.IsDefined(storage))
        {
            throw new ArgumentOutOfRangeException(nameof(storage), storage, "unknown storage");
        }

        _folder = Path.GetFullPath(folder);
        _name = name;
        _fps = fps;
        _storage = storage;
        foreach (var target in FinalPaths())
        {
            if (File.Exists(target) || Directory.Exists(target))
            {
                throw new IOException($"{target}: already exists; refusing to overwrite a clip");
            }
        }

        Directory.CreateDirectory(_folder);
        _staging = Path.Combine(_folder, $".{name}.writing-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_staging);
    }

    /// <summary>Frames appended so far.</summary>
    public int FrameCount => _labels.Count;

    private string MediaFileName => _storage == ClipStorage.MjpgAvi ? _name + ".avi" : _name;

    /// <summary>
    /// Appends the next frame with its label (<c>label.Frame</c> must equal <see cref="FrameCount"/>)
    /// and optional masks by kind (each of the frame's size). All frames must have frame 0's size.
    /// </summary>
    public void Append(Frame frame, FrameLabel label, IReadOnlyDictionary<string, BinaryMask>? masks = null)
    {
        ThrowIfFinished();
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(label);
        if (label.Frame != _labels.Count)
        {
            throw new ArgumentException($"label is for frame {label.Frame} but the next frame is {_labels.Count}", nameof(label));
        }

        if (label.Label is not (0 or 1))
        {
            throw new ArgumentException($"label {label.Label} is not 0 or 1", nameof(label));
        }

        if (_labels.Count == 0)
        {
            _width = frame.Width;
            _height = frame.Height;
        }
        else if (frame.Width != _width || frame.Height != _height)
        {
            throw new ArgumentException($"frame {label.Frame} is {frame.Width}x{frame.Height} but frame 0 is {_width}x{_height}", nameof(frame));
        }

        if (masks is not null)
        {
            foreach (var (kind, mask) in masks)
            {
                ValidateMask(kind, mask);
            }
        }

        WriteMedia(frame, label.Frame);
        if (masks is not null)
        {
            foreach (var (kind, mask) in masks)
            {
                var kindFolder = Path.Combine(_staging, _name + ClipLayout.MasksSuffix, kind);
                if (_kinds.Add(kind))
                {
                    Directory.CreateDirectory(kindFolder);
                }

                if (mask.Data.AsSpan().Contains(true))
                {
                    ImageCodec.WriteMask(Path.Combine(kindFolder, ClipLayout.FrameFileName(label.Frame)), mask);
                }
            }
        }

        _labels.Add(label);
    }

    /// <summary>Sets the static region of interest, written as <c>CLIP.masks/roi.png</c> by <see cref="Complete"/>.</summary>
    public void WriteRoi(BinaryMask roi)
    {
        ThrowIfFinished();
        ArgumentNullException.ThrowIfNull(roi);
        _roi = roi;
    }

    /// <summary>
    /// Finishes the video and the labels file and moves everything to its final name. Needs at
    /// least one frame; a region of interest must have the frame size.
    /// </summary>
    public void Complete()
    {
        ThrowIfFinished();
        if (_labels.Count == 0)
        {
            throw new InvalidOperationException($"clip '{_name}' has no frames");
        }

        if (_roi is not null)
        {
            if (_roi.Width != _width || _roi.Height != _height)
            {
                throw new InvalidOperationException($"region of interest is {_roi.Width}x{_roi.Height} but frames are {_width}x{_height}");
            }

            var masks = Path.Combine(_staging, _name + ClipLayout.MasksSuffix);
            Directory.CreateDirectory(masks);
            ImageCodec.WriteMask(Path.Combine(masks, ClipLayout.RoiFileName), _roi);
        }

        _video?.Release();
        _video?.Dispose();
        _video = null;
        LabelsCsv.Write(Path.Combine(_staging, _name + ClipLayout.LabelsSuffix), _labels);

        // Masks first, labels last: a reader that needs labels sees a clip only when all is in place.
        MoveIfExists(_name + ClipLayout.MasksSuffix);
        MoveIfExists(MediaFileName);
        MoveIfExists(_name + ClipLayout.LabelsSuffix);
        Directory.Delete(_staging, recursive: true);
        _completed = true;
    }

    /// <summary>Releases the video writer; without <see cref="Complete"/>, deletes everything written.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _video?.Dispose();
        _video = null;
        if (!_completed && Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }
    }

    private IEnumerable<string> FinalPaths() =>
    [
        Path.Combine(_folder, MediaFileName),
        ClipLayout.LabelsPath(_folder, _name),
        ClipLayout.MasksPath(_folder, _name),
    ];

    private void ValidateMask(string kind, BinaryMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (!ClipLayout.IsValidKind(kind))
        {
            throw new ArgumentException($"'{kind}' is not a mask kind (letters, digits, '-', '_', '+')", nameof(kind));
        }

        if (mask.Width != _width || mask.Height != _height)
        {
            throw new ArgumentException($"'{kind}' mask is {mask.Width}x{mask.Height} but frames are {_width}x{_height}", nameof(mask));
        }
    }

    private void WriteMedia(Frame frame, int index)
    {
        if (_storage == ClipStorage.PngFolder)
        {
            var folder = Path.Combine(_staging, MediaFileName);
            Directory.CreateDirectory(folder);
            ImageCodec.WriteFrame(Path.Combine(folder, ClipLayout.FrameFileName(index)), frame);
            return;
        }

        if (_video is null)
        {
            var path = Path.Combine(_staging, MediaFileName);
            _video = new VideoWriter(path, VideoCaptureAPIs.FFMPEG, FourCC.MJPG, _fps, new Size(_width, _height), isColor: true);
            if (!_video.IsOpened())
            {
                throw new IOException($"{path}: OpenCV could not open an MJPG video writer");
            }
        }

        using var mat = ImageCodec.ToMat(frame);
        _video.Write(mat);
    }

    private void MoveIfExists(string entry)
    {
        var from = Path.Combine(_staging, entry);
        var to = Path.Combine(_folder, entry);
        if (Directory.Exists(from))
        {
            Directory.Move(from, to);
        }
        else if (File.Exists(from))
        {
            File.Move(from, to);
        }
    }

    private void ThrowIfFinished()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException($"clip '{_name}' is already complete");
        }
    }
}
