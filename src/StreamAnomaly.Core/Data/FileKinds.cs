using System.Runtime.InteropServices;

namespace StreamAnomaly.Core.Data;

/// <summary>What a path names on disk (symbolic links followed).</summary>
public enum FileKind
{
    /// <summary>Nothing there (or a dangling link).</summary>
    Missing,

    /// <summary>A regular file: the only kind a command reads data from.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe: opening it for reading blocks until someone writes to it.</summary>
    Fifo,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>A character or block device (e.g. /dev/zero: endless).</summary>
    Device,
}

/// <summary>
/// Tells regular files from FIFOs, sockets and devices before anything opens them: .NET reports
/// all of them as plain files, and reading a FIFO blocks forever, a device may never end. On
/// Linux this asks the kernel (<c>statx</c>, whose layout is the same on every architecture);
/// elsewhere every existing non-directory counts as regular.
/// </summary>
public static class FileKinds
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int ModeOffset = 28;

    /// <summary>The kind of <paramref name="path"/>, following symbolic links.</summary>
    public static FileKind Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (System.IO.Directory.Exists(path))
        {
            return FileKind.Directory;
        }

        if (!File.Exists(path))
        {
            return FileKind.Missing;
        }

        if (!OperatingSystem.IsLinux())
        {
            return FileKind.Regular;
        }

        var buffer = new byte[StatxSize];
        if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
        {
            // Vanished or unreadable meanwhile: whoever opens it next reports why.
            return FileKind.Regular;
        }

        return (BitConverter.ToUInt16(buffer, ModeOffset) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            0x2000 or 0x6000 => FileKind.Device,
            _ => FileKind.Regular,
        };
    }

    /// <summary>
    /// Throws <see cref="InvalidDataFileException"/> ("PATH: is a FIFO (named pipe), not a regular
    /// file; refusing to read it") unless <paramref name="path"/> is a regular file or missing
    /// (the caller reports a missing file its own way).
    /// </summary>
    public static void EnsureRegularOrMissing(string path)
    {
        var kind = Of(path);
        if (kind is not (FileKind.Regular or FileKind.Missing))
        {
            throw NotRegular(path, kind);
        }
    }

    /// <summary>The error for a <paramref name="kind"/> found where a regular file was expected.</summary>
    public static InvalidDataFileException NotRegular(string path, FileKind kind) =>
        new(path, $"is {Describe(kind)}, not a regular file; refusing to read it");

    /// <summary>"a FIFO (named pipe)", "a directory", ...</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.Socket => "a socket",
        FileKind.Device => "a device",
        _ => kind.ToString(),
    };

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}
