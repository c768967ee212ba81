using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Cli.Commands;

/// <summary>
/// Writes a command's output folder all-or-nothing: everything goes into a new hidden sibling
/// staging folder (a random name, so nothing planted there is written through), and only
/// <see cref="Commit"/> moves it to the final name. Disposing without committing deletes the
/// staging folder, so a failed or cancelled run leaves nothing half-written.
/// A command never deletes what it did not write: the final folder may replace only a missing or
/// empty folder or an earlier report (one holding <see cref="MarkerFile"/>, which every report
/// gets), and may not be, contain or lie inside any input folder.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    /// <summary>The file that marks a folder as a StreamAnomaly report, which a later run may replace.</summary>
    public const string MarkerFile = ".streamanomaly-report";

    private bool committed;

    /// <param name="finalPath">The folder to write.</param>
    /// <param name="command">The command writing it (recorded in the marker file).</param>
    /// <param name="inputs">The folders the command reads, which the output must stay clear of.</param>
    public OutputFolder(string finalPath, string command, params string?[] inputs)
    {
        FinalPath = Path.GetFullPath(finalPath.TrimEnd('/', '\\'));
        OutputPaths.EnsureApart(FinalPath, inputs);
        EnsureReplaceable(FinalPath);
        var parent = Path.GetDirectoryName(FinalPath)!;
        Directory.CreateDirectory(parent);
        StagingPath = Path.Combine(parent, $".{Path.GetFileName(FinalPath)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(StagingPath);
        File.WriteAllText(Path.Combine(StagingPath, MarkerFile), $"written by streamanomaly {command}; a later run may replace this folder\n");
    }

    /// <summary>Where the result will appear.</summary>
    public string FinalPath { get; }

    /// <summary>Where to write meanwhile.</summary>
    public string StagingPath { get; }

    /// <summary>Path of <paramref name="relative"/> inside the staging folder.</summary>
    public string Stage(string relative) => Path.Combine(StagingPath, relative);

    /// <summary>Publishes the staged folder under its final name, replacing an earlier report there.</summary>
    public void Commit()
    {
        EnsureReplaceable(FinalPath);
        string? old = null;
        if (Directory.Exists(FinalPath))
        {
            old = StagingPath + ".old";
            Directory.Move(FinalPath, old);
        }

        Directory.Move(StagingPath, FinalPath);
        committed = true;
        if (old is not null)
        {
            // A link to a folder (the old FinalPath may have been one) is removed, not followed.
            Directory.Delete(old, recursive: true);
        }
    }

    public void Dispose()
    {
        if (!committed && Directory.Exists(StagingPath))
        {
            Directory.Delete(StagingPath, recursive: true);
        }
    }

    /// <summary>Throws <see cref="IOException"/> unless <paramref name="path"/> is missing, an empty folder or an earlier report.</summary>
    private static void EnsureReplaceable(string path)
    {
        var kind = FileKinds.Of(path);
        if (kind == FileKind.Missing)
        {
            return;
        }

        if (kind != FileKind.Directory)
        {
            throw new IOException($"{path}: is {FileKinds.Describe(kind)}, not a report folder; refusing to replace it (choose a new folder)");
        }

        if (Directory.EnumerateFileSystemEntries(path).Any() && FileKinds.Of(Path.Combine(path, MarkerFile)) != FileKind.Regular)
        {
            throw new IOException($"{path}: exists, is not empty and is not an earlier report (no {MarkerFile}); refusing to replace it (choose a new folder or empty it)");
        }
    }
}

/// <summary>Where a command may write, given what it reads.</summary>
internal static class OutputPaths
{
    /// <summary>Symbolic links followed at most this deep (the kernel's own limit), so a loop of links ends.</summary>
    private const int MaxLinkDepth = 40;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when <paramref name="output"/> is, contains or lies
    /// inside one of <paramref name="inputs"/> (null entries are skipped), after resolving symbolic
    /// links, so a command never writes over or into what it reads.
    /// </summary>
    public static void EnsureApart(string output, params string?[] inputs)
    {
        var real = Real(output);
        foreach (var input in inputs.OfType<string>())
        {
            var realInput = Real(input);
            var relation = real == realInput ? "is"
                : Inside(real, realInput) ? "lies inside"
                : Inside(realInput, real) ? "contains"
                : null;
            if (relation is not null)
            {
                throw new ArgumentException($"{Path.GetFullPath(output)}: the output {relation} the input folder {Path.GetFullPath(input)}; a command never writes over or into what it reads (choose an output elsewhere)");
            }
        }
    }

    /// <summary>The absolute path with every symbolic link along it resolved (the parts that do not exist yet kept as given).</summary>
    public static string Real(string path) => Real(Path.GetFullPath(path), 0);

    private static string Real(string full, int depth)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException($"{full}: too many levels of symbolic links");
        }

        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                next = Real(target.FullName, depth + 1);
            }

            current = next;
        }

        return current;
    }

    private static bool Inside(string path, string folder) =>
        path.StartsWith(folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
