using System.Diagnostics;
using System.Text.RegularExpressions;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// Regression guard for fresh machines: every native file the build puts next to the app finds
/// every shared library it links to on this machine. A new native package that needs a library
/// a clean Debian 12 lacks fails here, naming both, until scripts/native-libraries.tsv (which
/// scripts/ensure-deps.sh installs from) lists it.
/// </summary>
public sealed partial class NativeDependencyTests
{
    /// <summary>Native files in the build output that are never loaded on Debian 12, and why.</summary>
    private static readonly Dictionary<string, string> NeverLoadedHere = new(StringComparer.Ordinal)
    {
        ["alpine-librdkafka.so"] = "librdkafka built for musl: Confluent.Kafka loads it on Alpine only",
        ["librdkafka.so"] = "Confluent's main build wants libsasl2.so.3, which Debian does not ship (libsasl2-2 is libsasl2.so.2); "
            + "Confluent.Kafka then loads centos8-librdkafka.so, which this test does check",
        ["liblmdb.so"] = "LightningDB's store for Akka.DistributedData durable keys, which StreamAnomaly never enables; "
            + "the only LightningDB NuGet serves here needs glibc 2.38",
    };

    [Fact]
    public void Every_native_library_next_to_the_app_finds_the_shared_libraries_it_links_to()
    {
        var natives = NativeFiles().Where(static f => !NeverLoadedHere.ContainsKey(Path.GetFileName(f))).ToList();
        Assert.Contains(natives, static f => Path.GetFileName(f) == "libOpenCvSharpExtern.so");
        Assert.Contains(natives, static f => Path.GetFileName(f) == "libLibTorchSharp.so");
        Assert.Contains(natives, static f => Path.GetFileName(f) == "centos8-librdkafka.so");

        var problems = natives.SelectMany(static file => Unresolved(file).Select(missing => $"{Path.GetFileName(file)} needs {missing}")).ToList();

        Assert.True(
            problems.Count == 0,
            "native libraries that would not load on this machine (add each missing library to scripts/native-libraries.tsv with its Debian package):"
            + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void The_exempt_native_files_still_exist_so_the_exemptions_stay_true()
    {
        var names = NativeFiles().Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);

        Assert.All(NeverLoadedHere.Keys, name => Assert.Contains(name, names));
    }

    [Fact]
    public void The_ldd_parser_reports_a_missing_library_and_a_missing_strong_version_but_not_a_weak_one()
    {
        const string output = """
            	linux-vdso.so.1 (0x00007ffd)
            	libatomic.so.1 => not found
            ./libX.so: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by ./libX.so)
            ./libX.so: /lib/x86_64-linux-gnu/libstdc++.so.6: weak version `GLIBCXX_3.4.32' not found (required by ./libX.so)
            	libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f)
            """;

        Assert.Equal(["libatomic.so.1", "GLIBC_2.38 of libc.so.6"], ParseLdd(output));
    }

    private static IEnumerable<string> NativeFiles() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "*.so*", SearchOption.AllDirectories)
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}runtimes{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static IReadOnlyList<string> Unresolved(string file)
    {
        var info = new ProcessStartInfo("sh", ["-c", "ldd \"$0\" 2>&1", file]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var ldd = Process.Start(info) ?? throw new InvalidOperationException("ldd did not start");
        var output = ldd.StandardOutput.ReadToEnd();
        ldd.WaitForExit();
        return ParseLdd(output);
    }

    private static List<string> ParseLdd(string output)
    {
        var problems = new List<string>();
        foreach (var line in output.Split('\n'))
        {
            if (NotFound().Match(line) is { Success: true } library)
            {
                problems.Add(library.Groups[1].Value);
            }
            else if (!line.Contains("weak version", StringComparison.Ordinal) && MissingVersion().Match(line) is { Success: true } version)
            {
                problems.Add($"{version.Groups[2].Value} of {version.Groups[1].Value}");
            }
        }

        return problems;
    }

    [GeneratedRegex(@"^\s*(\S+) => not found")]
    private static partial Regex NotFound();

    [GeneratedRegex(@"/([^/\s:]+): version `([^']+)' not found")]
    private static partial Regex MissingVersion();
}
