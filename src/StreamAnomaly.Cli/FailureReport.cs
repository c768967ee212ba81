using System.Globalization;

namespace StreamAnomaly.Cli;

/// <summary>
/// The last line of defence for a failure no command handled: the terminal gets one line, never a
/// stack trace. A native library that does not load is named with the package that brings it
/// (exit code 2, like any bad input); anything else is written whole to a log file whose path the
/// line gives (exit code 70, EX_SOFTWARE).
/// </summary>
internal static class FailureReport
{
    /// <summary>Exit code for a failure that is a bug or an environment we did not foresee.</summary>
    public const int Unexpected = 70;

    /// <summary>Writes the line (and the log), returns the exit code.</summary>
    /// <param name="failure">What escaped.</param>
    /// <param name="time">Clock for the log's name and first line.</param>
    /// <param name="error">Where the one line goes (standard error).</param>
    /// <param name="logFolder">Folder for the log; default <see cref="DefaultLogFolder"/>.</param>
    public static int Write(Exception failure, TimeProvider time, TextWriter error, string? logFolder = null)
    {
        var now = time.GetUtcNow();
        string log;
        try
        {
            log = WriteLog(failure, now, logFolder ?? DefaultLogFolder());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log = WriteLog(failure, now, Path.Combine(Path.GetTempPath(), "streamanomaly"));
        }

        if (NativeLibraries.Explain(failure, AppContext.BaseDirectory) is { } native)
        {
            error.WriteLine($"error: {native}");
            return CliApp.BadInput;
        }

        var first = failure.Message.Split('\n', 2)[0].Trim();
        error.WriteLine($"error: unexpected {failure.GetType().Name}: {first} (details: {log})");
        return Unexpected;
    }

    /// <summary><c>$XDG_STATE_HOME/streamanomaly/logs</c>, else <c>~/.local/state/streamanomaly/logs</c>.</summary>
    public static string DefaultLogFolder()
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return Path.Combine(state, "streamanomaly", "logs");
    }

    private static string WriteLog(Exception failure, DateTimeOffset now, string folder)
    {
        Directory.CreateDirectory(folder);
        var stamp = now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var path = Path.Combine(folder, $"failure-{stamp}-{Environment.ProcessId}.log");
        var text = string.Join(
            Environment.NewLine,
            $"streamanomaly {typeof(FailureReport).Assembly.GetName().Version} failed at {now:O}",
            $"command line: {Environment.CommandLine}",
            $"OS: {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            string.Empty,
            failure.ToString(),
            string.Empty);
        File.AppendAllText(path, text);
        return path;
    }
}
