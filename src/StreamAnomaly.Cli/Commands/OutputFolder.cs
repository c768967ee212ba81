namespace StreamAnomaly.Cli.Commands;

/// <summary>
/// Writes a command's output folder all-or-nothing: everything goes into a hidden sibling
/// staging folder, and only <see cref="Commit"/> moves it to the final name (replacing an older
/// result there). Disposing without committing deletes the staging folder, so a failed or
/// cancelled run leaves nothing half-written.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    private bool committed;

    public OutputFolder(string finalPath)
    {
        FinalPath = Path.GetFullPath(finalPath.TrimEnd('/', '\\'));
        var parent = Path.GetDirectoryName(FinalPath)!;
        Directory.CreateDirectory(parent);
        StagingPath = Path.Combine(parent, $".{Path.GetFileName(FinalPath)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(StagingPath);
    }

    /// <summary>Where the result will appear.</summary>
    public string FinalPath { get; }

    /// <summary>Where to write meanwhile.</summary>
    public string StagingPath { get; }

    /// <summary>Path of <paramref name="relative"/> inside the staging folder.</summary>
    public string Stage(string relative) => Path.Combine(StagingPath, relative);

    /// <summary>Publishes the staged folder under its final name.</summary>
    public void Commit()
    {
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
}
