namespace StreamAnomaly.Ingest.Clips;

/// <summary>File names of the clip interchange format, in one place.</summary>
internal static class ClipLayout
{
    public static readonly string[] VideoExtensions = [".avi", ".mp4", ".mkv", ".mov"];

    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];

    public const string LabelsSuffix = ".labels.csv";

    public const string MasksSuffix = ".masks";

    public const string RoiFileName = "roi.png";

    public static bool IsVideo(string path) => HasExtension(path, VideoExtensions);

    public static bool IsImage(string path) => HasExtension(path, ImageExtensions);

    public static string LabelsPath(string folder, string name) => Path.Combine(folder, name + LabelsSuffix);

    public static string MasksPath(string folder, string name) => Path.Combine(folder, name + MasksSuffix);

    /// <summary>Per-frame mask file name: six-digit zero-padded frame index, e.g. <c>000042.png</c>.</summary>
    public static string FrameFileName(int frame) => frame.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + ".png";

    /// <summary>
    /// Image files of an image-folder clip, sorted by file name (ordinal); an image name that is a
    /// FIFO, socket or device is an <see cref="StreamAnomaly.Core.Data.InvalidDataFileException"/> naming it.
    /// </summary>
    public static string[] ImageFiles(string folder)
    {
        var files = Directory.EnumerateFiles(folder)
            .Where(IsImage)
            .Where(static f => !Path.GetFileName(f).StartsWith('.'))
            .OrderBy(static f => Path.GetFileName(f), StringComparer.Ordinal)
            .ToArray();
        foreach (var file in files)
        {
            StreamAnomaly.Core.Data.FileKinds.EnsureRegularOrMissing(file);
        }

        return files;
    }

    /// <summary>A mask kind is a folder name: letters, digits, '-', '_', '+'.</summary>
    public static bool IsValidKind(string kind) =>
        kind.Length > 0 && kind.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+');

    /// <summary>A clip name is a file name: non-empty, no separators, no leading dot, not ending in '.masks'.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0
        && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0
        && name.IndexOfAny(['/', '\\']) < 0
        && !name.StartsWith('.')
        && !name.EndsWith(MasksSuffix, StringComparison.Ordinal);

    private static bool HasExtension(string path, string[] extensions) =>
        extensions.Contains(Path.GetExtension(path).ToLowerInvariant(), StringComparer.Ordinal);
}
