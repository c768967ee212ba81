using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Ingest.Clips;

/// <summary>
/// A folder of clips in the interchange format (see <see cref="Clip"/>). Non-recursive: every video
/// file and every sub-folder holding at least one image is a clip, except <c>*.masks</c> folders and
/// names starting with '.' (temporary files of <see cref="ClipWriter"/>); other files are ignored.
/// A FIFO, socket or device in the folder is refused by name: opening one would block or never end.
/// </summary>
public static class ClipDataset
{
    /// <summary>
    /// Opens every clip in <paramref name="folder"/>, sorted by name (ordinal). Throws
    /// <see cref="InvalidDataFileException"/> ("PATH: problem") for a missing folder, a folder with no
    /// clips, two clips with the same name, a labels file that is malformed or whose row count differs
    /// from its clip's frame count, a labels file without its clip, or (with
    /// <paramref name="requireLabels"/>) a clip without labels.
    /// </summary>
    public static IReadOnlyList<Clip> Open(string folder, bool requireLabels)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
        {
            throw new InvalidDataFileException(folder, "clip folder not found");
        }

        var media = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
        {
            var fileName = Path.GetFileName(path);
            if (fileName.StartsWith('.'))
            {
                continue;
            }

            var kind = FileKinds.Of(path);
            if (kind is not (FileKind.Regular or FileKind.Directory or FileKind.Missing))
            {
                throw FileKinds.NotRegular(path, kind);
            }

            string name;
            if (kind == FileKind.Directory)
            {
                if (fileName.EndsWith(ClipLayout.MasksSuffix, StringComparison.Ordinal) || ClipLayout.ImageFiles(path).Length == 0)
                {
                    continue;
                }

                name = fileName;
            }
            else if (ClipLayout.IsVideo(path))
            {
                name = Path.GetFileNameWithoutExtension(path);
            }
            else
            {
                continue;
            }

            if (!media.TryAdd(name, path))
            {
                throw new InvalidDataFileException(path, $"two clips are named '{name}' (also {media[name]})");
            }
        }

        foreach (var labels in Directory.EnumerateFiles(folder, "*" + ClipLayout.LabelsSuffix).Order(StringComparer.Ordinal))
        {
            var fileName = Path.GetFileName(labels);
            var name = fileName[..^ClipLayout.LabelsSuffix.Length];
            if (!fileName.StartsWith('.') && !media.ContainsKey(name))
            {
                throw new InvalidDataFileException(labels, $"labels file without its clip (no video '{name}.avi/.mp4/.mkv/.mov' or image folder '{name}')");
            }
        }

        if (media.Count == 0)
        {
            throw new InvalidDataFileException(folder, "no clips (expected .avi/.mp4/.mkv/.mov files or image folders)");
        }

        return media.Values.Select(path => Clip.Open(path, requireLabels)).ToArray();
    }
}
