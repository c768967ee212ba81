using System.Runtime.CompilerServices;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Cameras;

/// <summary>
/// A folder of images played as a camera: the .png, .jpg, .jpeg and .bmp files (case-insensitive
/// extensions, names starting with '.' skipped) in ordinal file-name order, listed again at every
/// pass. Not live: pacing is the pump's job. With <c>loop</c> the folder is played again forever.
/// A missing folder is a <see cref="DirectoryNotFoundException"/>, a folder without images an
/// <see cref="InvalidDataException"/>, an unreadable image an
/// <see cref="StreamAnomaly.Core.Data.InvalidDataFileException"/> naming the file.
/// </summary>
public sealed class ImageFolderSource : ICameraSource
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    private readonly string _path;
    private readonly bool _loop;

    /// <param name="path">Folder holding the images.</param>
    /// <param name="loop">Play again from the first image after the last, forever.</param>
    public ImageFolderSource(string path, bool loop)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
        _loop = loop;
    }

    /// <inheritdoc />
    public string Description => $"folder {_path}{(_loop ? " (loop)" : "")}";

    /// <inheritdoc />
    public bool IsLive => false;

    /// <summary>The images of the folder in play order.</summary>
    public IReadOnlyList<string> ListImages()
    {
        if (!Directory.Exists(_path))
        {
            throw new DirectoryNotFoundException($"{_path}: image folder not found");
        }

        var files = Directory.EnumerateFiles(_path)
            .Where(static f => !Path.GetFileName(f).StartsWith('.'))
            .Where(static f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .OrderBy(static f => Path.GetFileName(f), StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
        {
            throw new InvalidDataException($"{_path}: no images (.png, .jpg, .jpeg, .bmp) in the folder");
        }

        return files;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<Frame> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        do
        {
            foreach (var file in ListImages())
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return ImageCodec.ReadFrame(file);
                await Task.Yield();
            }
        }
        while (_loop);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
