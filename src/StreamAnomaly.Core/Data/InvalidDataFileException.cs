namespace StreamAnomaly.Core.Data;

/// <summary>
/// A file the user gave us (a clip, a label file, a mask, a model bundle, a configuration) is
/// missing, unreadable or malformed. The message is one line: "PATH: problem". Commands print it
/// and exit non-zero without a stack trace.
/// </summary>
public sealed class InvalidDataFileException : Exception
{
    public InvalidDataFileException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The offending file or folder.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
