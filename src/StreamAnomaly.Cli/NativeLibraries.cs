using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace StreamAnomaly.Cli;

/// <summary>
/// Tells why a native library (OpenCvSharpExtern, LibTorchSharp, librdkafka, SkiaSharp) failed to
/// load, in one line that names the missing shared library and the Debian package that brings it.
/// The package table is <c>scripts/native-libraries.tsv</c>, embedded at build time: the same
/// table <c>scripts/ensure-deps.sh</c> installs from.
/// </summary>
internal static partial class NativeLibraries
{
    private const int RtldLazy = 0x1;

    /// <summary>Shared-object name -> Debian package, from <c>scripts/native-libraries.tsv</c>.</summary>
    public static IReadOnlyDictionary<string, string> Packages { get; } = ReadPackageTable();

    /// <summary>
    /// The one-line explanation when <paramref name="failure"/> (or an exception inside it) is a
    /// native library that could not be loaded; null for any other failure.
    /// </summary>
    /// <param name="failure">What escaped the command.</param>
    /// <param name="appDirectory">Folder holding the app's native files (probed with dlopen when
    /// the exception's text does not name the missing library itself).</param>
    public static string? Explain(Exception failure, string appDirectory)
    {
        var chain = Chain(failure).ToList();
        var notFound = chain.OfType<DllNotFoundException>().FirstOrDefault();
        var torch = chain.FirstOrDefault(static e => e is NotSupportedException && e.Message.Contains("libtorch", StringComparison.Ordinal));
        if (notFound is null && torch is null)
        {
            return null;
        }

        var library = notFound is not null && QuotedLibrary().Match(notFound.Message) is { Success: true } named
            ? named.Groups[1].Value
            : "LibTorchSharp";
        var reason = notFound is not null && MissingDependency().Match(notFound.Message) is { Success: true } missing
            ? $"{missing.Groups[1].Value}: cannot open shared object file"
            : Probe(library, appDirectory);
        return Describe(library, reason);
    }

    /// <summary>
    /// Loads <c>lib{library}.so</c> from <paramref name="appDirectory"/> now, and keeps it loaded,
    /// so a library that cannot load fails here with the loader's reason instead of later inside
    /// a package that prints its own diagnostics (TorchSharp writes a page to standard output
    /// before it throws). Does nothing when the app has no such file.
    /// </summary>
    /// <exception cref="DllNotFoundException">The loader refused the file; the message holds its reason.</exception>
    public static void Preload(string library, string appDirectory)
    {
        var file = Path.Combine(appDirectory, $"lib{library}.so");
        if (!File.Exists(file))
        {
            return;
        }

        _ = Dlerror();
        if (Dlopen(file, RtldLazy) == IntPtr.Zero)
        {
            throw new DllNotFoundException($"Unable to load shared library '{library}':{Environment.NewLine}{Marshal.PtrToStringUTF8(Dlerror())}");
        }
    }

    /// <summary>
    /// One line from the loader's own reason (<c>dlerror</c>): a missing dependency is named with
    /// the <c>apt-get install</c> line that brings it.
    /// </summary>
    public static string Describe(string library, string? loaderReason)
    {
        var prefix = $"cannot load the native library {library}";
        if (loaderReason is null)
        {
            return $"{prefix} (the loader gave no reason; run `ldd` on lib{library}.so in {AppContext.BaseDirectory})";
        }

        if (MissingDependency().Match(loaderReason) is not { Success: true } missing)
        {
            return $"{prefix}: {OneLine(loaderReason)}";
        }

        var soname = missing.Groups[1].Value;
        return Packages.TryGetValue(soname, out var package)
            ? $"{prefix}: {soname} is missing; install it as root: apt-get install -y {package}"
            : $"{prefix}: {soname} is missing; install the package that provides it (Debian: apt-file search {soname})";
    }

    /// <summary>The loader's reason for refusing the library's file in <paramref name="appDirectory"/>.</summary>
    private static string? Probe(string library, string appDirectory)
    {
        var file = new[] { $"lib{library}.so", $"{library}.so", library }
            .Select(name => Path.Combine(appDirectory, name))
            .FirstOrDefault(File.Exists);
        if (file is null)
        {
            return $"lib{library}.so is not in {appDirectory}";
        }

        // Bind dlerror before dlopen: the runtime resolves a P/Invoke on its first call with
        // dlsym, which would clear the error that dlopen leaves.
        _ = Dlerror();
        var handle = Dlopen(file, RtldLazy);
        if (handle != IntPtr.Zero)
        {
            _ = Dlclose(handle);
            return null;
        }

        return Marshal.PtrToStringUTF8(Dlerror());
    }

    private static IEnumerable<Exception> Chain(Exception failure)
    {
        var pending = new Stack<Exception>([failure]);
        while (pending.TryPop(out var e))
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (e.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static Dictionary<string, string> ReadPackageTable()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("native-libraries.tsv")
            ?? throw new InvalidOperationException("native-libraries.tsv is not embedded in the CLI assembly");
        using var reader = new StreamReader(stream);
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split('\t');
            if (!line.StartsWith('#') && fields.Length >= 2)
            {
                table[fields[0]] = fields[1];
            }
        }

        return table;
    }

    /// <summary>"Unable to load shared library 'OpenCvSharpExtern' or one of its dependencies."</summary>
    [GeneratedRegex(@"shared library '([^']+)'")]
    private static partial Regex QuotedLibrary();

    /// <summary>A dependency the loader could not find: a bare file name (no folder) before the reason.</summary>
    [GeneratedRegex(@"(?:^|[\s:])(lib[^\s/:]+\.so[.\d]*): cannot open shared object file", RegexOptions.Multiline)]
    private static partial Regex MissingDependency();

    [DllImport("libc.so.6", EntryPoint = "dlopen")]
    private static extern IntPtr Dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc.so.6", EntryPoint = "dlclose")]
    private static extern int Dlclose(IntPtr handle);

    [DllImport("libc.so.6", EntryPoint = "dlerror")]
    private static extern IntPtr Dlerror();
}
