using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using StreamAnomaly.Cli;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// A failure no command handled reaches the terminal as one line: a native library that does not
/// load names the missing library and its apt-get line; anything else names a log file.
/// </summary>
public sealed class FailureReportTests : IDisposable
{
    private const string OpenCvLoadFailure = """
        Unable to load shared library 'OpenCvSharpExtern' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: 
        /app/OpenCvSharpExtern.so: cannot open shared object file: No such file or directory
        libatomic.so.1: cannot open shared object file: No such file or directory
        /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libOpenCvSharpExtern.so: cannot open shared object file: No such file or directory
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("failure-report-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_missing_dependency_of_OpenCV_is_named_with_the_package_that_brings_it()
    {
        var failure = new TypeInitializationException("OpenCvSharp.Internal.NativeMethods", new DllNotFoundException(OpenCvLoadFailure));

        var line = NativeLibraries.Explain(failure, _folder);

        Assert.Equal("cannot load the native library OpenCvSharpExtern: libatomic.so.1 is missing; install it as root: apt-get install -y libatomic1", line);
    }

    [Fact]
    public void A_missing_library_the_table_does_not_know_points_to_apt_file()
    {
        var line = NativeLibraries.Describe("Foo", "libfoo.so.3: cannot open shared object file: No such file or directory");

        Assert.Equal("cannot load the native library Foo: libfoo.so.3 is missing; install the package that provides it (Debian: apt-file search libfoo.so.3)", line);
    }

    [Fact]
    public void A_loader_reason_other_than_a_missing_file_is_passed_on_in_one_line()
    {
        var line = NativeLibraries.Describe("LibTorchSharp", "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found\n(required by libLibTorchSharp.so)");

        Assert.Equal("cannot load the native library LibTorchSharp: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found (required by libLibTorchSharp.so)", line);
    }

    [Fact]
    public void A_failure_that_is_not_a_native_load_is_not_explained_as_one()
    {
        Assert.Null(NativeLibraries.Explain(new InvalidOperationException("boom", new IOException("disk")), _folder));
    }

    [Fact]
    public void Every_package_in_the_native_library_table_is_a_Debian_package_name()
    {
        Assert.NotEmpty(NativeLibraries.Packages);
        Assert.All(NativeLibraries.Packages, entry =>
        {
            Assert.Matches(@"^lib[\w+.-]+\.so\.\d+$", entry.Key);
            Assert.Matches(@"^[a-z0-9][a-z0-9+.-]+$", entry.Value);
        });
    }

    [Fact]
    public void An_unexpected_failure_prints_one_line_naming_a_log_that_holds_the_stack_trace()
    {
        var error = new StringWriter();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 10, 30, 0, TimeSpan.Zero));
        Exception failure;
        try
        {
            throw new InvalidOperationException("the queue is gone\nsecond line");
        }
        catch (InvalidOperationException e)
        {
            failure = e;
        }

        var code = FailureReport.Write(failure, time, error, _folder);

        Assert.Equal(FailureReport.Unexpected, code);
        var line = Assert.Single(error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        var log = Path.Combine(_folder, $"failure-20261202-103000-{Environment.ProcessId}.log");
        Assert.Equal($"error: unexpected InvalidOperationException: the queue is gone (details: {log})", line);
        var details = File.ReadAllText(log);
        Assert.Contains("second line", details, StringComparison.Ordinal);
        Assert.Contains(nameof(An_unexpected_failure_prints_one_line_naming_a_log_that_holds_the_stack_trace), details, StringComparison.Ordinal);
    }

    [Fact]
    public void A_native_load_failure_exits_with_code_2_and_one_line()
    {
        var error = new StringWriter();
        var failure = new TypeInitializationException("OpenCvSharp.Internal.NativeMethods", new DllNotFoundException(OpenCvLoadFailure));

        var code = FailureReport.Write(failure, TimeProvider.System, error, _folder);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal(
            "error: cannot load the native library OpenCvSharpExtern: libatomic.so.1 is missing; install it as root: apt-get install -y libatomic1",
            Assert.Single(error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>
    /// The real thing: the CLI runs from a copy of the app whose OpenCvSharpExtern links to a
    /// library that does not exist (its name patched in the ELF file), as on a machine without
    /// libatomic1. The terminal gets the one line and exit code 2.
    /// </summary>
    [Fact]
    public async Task The_cli_names_a_missing_native_dependency_in_one_line_and_exits_2()
    {
        var app = Path.Combine(_folder, "app");
        CopyAppWithBrokenOpenCv(app, "libatomic.so.1", "libatomiq.so.1");
        var info = new ProcessStartInfo("dotnet", [Path.Combine(app, "streamanomaly.dll"), "synth", "--suite", "robotcell-v1", "--out", Path.Combine(_folder, "suite")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["XDG_STATE_HOME"] = Path.Combine(_folder, "state");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(CliApp.BadInput, process.ExitCode);
        Assert.Equal(
            "error: cannot load the native library OpenCvSharpExtern: libatomiq.so.1 is missing; install the package that provides it (Debian: apt-file search libatomiq.so.1)",
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("   at ", await stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Links every file of the test's output into <paramref name="app"/>, except the CLI's own
    /// entry files (copied, so the host takes <paramref name="app"/> as the app's folder) and
    /// libOpenCvSharpExtern.so, copied with one needed library renamed (same length, so the ELF
    /// string table keeps its layout).
    /// </summary>
    private static void CopyAppWithBrokenOpenCv(string app, string needed, string renamed)
    {
        Directory.CreateDirectory(app);
        foreach (var entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
        {
            var name = Path.GetFileName(entry);
            var target = Path.Combine(app, name);
            if (name.StartsWith("streamanomaly.", StringComparison.Ordinal))
            {
                File.Copy(entry, target);
            }
            else if (name == "libOpenCvSharpExtern.so")
            {
                var bytes = File.ReadAllBytes(entry);
                var from = System.Text.Encoding.ASCII.GetBytes(needed + "\0");
                var to = System.Text.Encoding.ASCII.GetBytes(renamed + "\0");
                var at = bytes.AsSpan().IndexOf(from);
                Assert.True(at >= 0, $"{entry} does not link to {needed}");
                to.CopyTo(bytes, at);
                File.WriteAllBytes(target, bytes);
            }
            else
            {
                File.CreateSymbolicLink(target, entry);
            }
        }
    }
}
