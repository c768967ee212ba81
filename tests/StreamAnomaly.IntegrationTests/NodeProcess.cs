using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// A child process running the <c>streamanomaly</c> CLI built next to the test assembly
/// (<c>dotnet streamanomaly.dll ...</c>): its stdout and stderr are kept (time-stamped) for the
/// test output, it can be killed hard (<see cref="Kill"/>) or asked to leave (<see cref="TerminateAsync"/>: SIGTERM).
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Stopwatch _clock;
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    private NodeProcess(string name, Process process, Stopwatch clock)
    {
        Name = name;
        _process = process;
        _clock = clock;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Every line written so far, "[t s] stream: text".</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>The CLI assembly the test project copied next to itself.</summary>
    public static string CliAssembly => Path.Combine(AppContext.BaseDirectory, "streamanomaly.dll");

    /// <summary>Starts <c>dotnet streamanomaly.dll ARGS</c> with extra environment variables.</summary>
    public static NodeProcess Start(string name, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory, Stopwatch clock)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(CliAssembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // No colour codes or live-console tricks in captured output; no inherited overrides.
        foreach (var key in info.Environment.Keys.Where(static k => k.StartsWith("STREAMANOMALY__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "dumb";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(name, process, clock);
        process.OutputDataReceived += (_, e) => node.Append("out", e.Data);
        process.ErrorDataReceived += (_, e) => node.Append("err", e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {name}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Append("test", $"started pid {process.Id}: {string.Join(' ', args)}");
        return node;
    }

    /// <summary>Waits for an output line matching <paramref name="match"/> (already written or to come).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            var seen = _output.FirstOrDefault(l => match(Text(l)));
            if (seen is not null)
            {
                return Text(seen);
            }

            _waiters.Add((match, found));
        }

        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(found.Task, exited).WaitAsync(timeout);
        return first == found.Task
            ? await found.Task
            : throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before writing the expected line");
    }

    /// <summary>Kills the process at once (no graceful leave): SIGKILL.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Append("test", "SIGKILL");
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Waits for the process to end.</summary>
    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    /// <summary>Sends SIGTERM (a graceful leave) and waits for the exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            Append("test", "SIGTERM");
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
                ?? throw new InvalidOperationException("could not run kill");
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }

        _process.Dispose();
    }

    /// <summary>A TCP port nobody listens on right now on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Text(string line) => line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..];

    private void Append(string stream, string? data)
    {
        if (data is null)
        {
            return;
        }

        var line = string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,7:F2} s {Name} {stream}] {data}");
        lock (_waiters)
        {
            _output.Enqueue(line);
            foreach (var waiter in _waiters.Where(w => w.Match(data)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Found.TrySetResult(data);
            }
        }
    }
}
