using System.Diagnostics;
using Npgsql;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// A throw-away PostgreSQL server from Debian's postgresql package (installed by
/// <c>scripts/ensure-deps.sh --test</c>): initdb into a temporary folder, one user with a password
/// (scram over TCP), listening on 127.0.0.1 at a free port. As root it runs as the package's
/// <c>postgres</c> user (the server refuses root).
/// </summary>
internal sealed class Postgres : IAsyncDisposable
{
    public const string User = "streamanomaly";

    private readonly string _root = Directory.CreateTempSubdirectory("postgres-tests-").FullName;
    private Process? _server;

    public int Port { get; } = NodeProcess.FreePort();

    public string Password { get; } = Convert.ToHexString(Guid.NewGuid().ToByteArray());

    /// <summary>The connection string without the password (what <c>Journal:ConnectionString</c> holds).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database=postgres;Username={User}";

    public static async Task<Postgres> StartAsync()
    {
        var postgres = new Postgres();
        await postgres.InitAsync();
        return postgres;
    }

    /// <summary>Writes the password to a file in the server's folder, as a mounted secret would hold it.</summary>
    public string WritePasswordFile()
    {
        var path = Path.Combine(_root, "password");
        File.WriteAllText(path, Password + "\n");
        return path;
    }

    private async Task InitAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(static d => d, StringComparer.Ordinal)
            .Select(static d => Path.Combine(d, "bin")).FirstOrDefault(static d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException("Debian's postgresql is not installed (scripts/ensure-deps.sh --test installs it)");
        var data = Path.Combine(_root, "data");
        var passwordFile = Path.Combine(_root, "initdb-password");
        await File.WriteAllTextAsync(passwordFile, Password);
        if (Environment.UserName == "root")
        {
            await RunAsync(new ProcessStartInfo("chown", ["-R", "postgres:postgres", _root]) { RedirectStandardError = true, RedirectStandardOutput = true });
        }

        await RunAsync(AsServerUser(Path.Combine(bin, "initdb"), ["-D", data, "-U", User, "--pwfile", passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]));
        _server = Process.Start(AsServerUser(Path.Combine(bin, "postgres"), ["-D", data, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", _root, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]))
            ?? throw new InvalidOperationException("postgres did not start");
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Password = Password, Timeout = 2 };
        var up = await Eventually.True(
            async () =>
            {
                try
                {
                    await using var connection = new NpgsqlConnection(builder.ToString());
                    await connection.OpenAsync();
                    return true;
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30));
        Assert.True(up, $"postgres accepts connections on {Port}: {(_server.HasExited ? await _server.StandardError.ReadToEndAsync() : "still starting")}");
    }

    private static ProcessStartInfo AsServerUser(string program, string[] args)
    {
        // setpriv execs the program itself (no forked session), so killing the process stops the server
        var info = Environment.UserName == "root"
            ? new ProcessStartInfo("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", program, .. args])
            : new ProcessStartInfo(program, args);
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        return info;
    }

    private static async Task RunAsync(ProcessStartInfo info)
    {
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{info.FileName} exited with {process.ExitCode}: {await stderr}{await stdout}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
