using Akka.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;
using StreamAnomaly.Ingest;

namespace StreamAnomaly.Host.Settings;

/// <summary>
/// Where line aggregators keep their journal and snapshots (configuration section <c>Journal</c>;
/// see <c>LineAggregatorActor</c>), through Akka.Persistence.Sql:
/// <list type="bullet">
/// <item><c>sqlite</c> (default): a file on the aggregator node's disk. Survives a restart of that
/// node; lines move to another node only if it sees the same file (one machine, or a shared
/// volume).</item>
/// <item><c>postgresql</c>: a database every aggregator node reaches, so a line survives its node
/// dying and resumes on another one (compose and the Helm chart run one).</item>
/// <item><c>memory</c>: lost with the node (the demo, tests).</item>
/// </list>
/// The PostgreSQL password is read from a file, never a configuration value.
/// </summary>
public sealed record JournalOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Journal";

    /// <summary>The providers known.</summary>
    public static IReadOnlyList<string> Providers { get; } = ["sqlite", "postgresql", "memory"];

    /// <summary><c>sqlite</c>, <c>postgresql</c> or <c>memory</c>.</summary>
    public string Provider { get; init; } = "sqlite";

    /// <summary>SQLite: the database file (its folder is created).</summary>
    public string Path { get; init; } = "state/journal.db";

    /// <summary>PostgreSQL: an Npgsql connection string without the password, e.g. <c>Host=db;Database=streamanomaly;Username=streamanomaly</c>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>PostgreSQL: the file holding the password.</summary>
    public string? PasswordFile { get; init; }

    /// <summary>Every problem, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        switch (Provider)
        {
            case "sqlite":
                if (string.IsNullOrWhiteSpace(Path))
                {
                    errors.Add($"{SectionName}:Path must name the SQLite file");
                }

                break;
            case "postgresql":
                if (string.IsNullOrWhiteSpace(ConnectionString))
                {
                    errors.Add($"{SectionName}:ConnectionString must be set for PostgreSQL (e.g. Host=db;Database=streamanomaly;Username=streamanomaly)");
                    break;
                }

                try
                {
                    var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
                    if (!string.IsNullOrEmpty(builder.Password))
                    {
                        errors.Add($"{SectionName}:ConnectionString holds a password: put it in the file named by {SectionName}:PasswordFile");
                    }
                }
                catch (ArgumentException e)
                {
                    errors.Add($"{SectionName}:ConnectionString is not a PostgreSQL connection string ({e.Message})");
                }

                if (!string.IsNullOrEmpty(PasswordFile) && !File.Exists(PasswordFile))
                {
                    errors.Add($"{SectionName}:PasswordFile: file '{PasswordFile}' not found");
                }

                break;
            case "memory":
                break;
            default:
                errors.Add($"{SectionName}:Provider must be one of {string.Join(", ", Providers)}, got '{Provider}'");
                break;
        }

        return errors;
    }

    /// <summary>
    /// The Akka.Persistence configuration of this journal (HOCON laid over the embedded defaults);
    /// for SQLite it creates the file's folder and switches the file to write-ahead logging (so
    /// nodes on one machine can share it). Throws <see cref="InvalidOperationException"/> naming
    /// the key when the file cannot be opened or the password file read.
    /// </summary>
    public string ToHocon()
    {
        var (connection, provider) = Provider switch
        {
            "sqlite" => (OpenSqlite(), "SQLite.MS"),
            "postgresql" => (PostgresConnection(), "PostgreSQL.15"),
            _ => (null, null),
        };
        if (connection is null)
        {
            return """
                akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                """;
        }

        var quoted = Quote(connection);
        return $$"""
            akka.persistence.journal.plugin = "akka.persistence.journal.sql"
            akka.persistence.journal.sql { connection-string = {{quoted}}, provider-name = "{{provider}}", auto-initialize = on }
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
            akka.persistence.snapshot-store.sql { connection-string = {{quoted}}, provider-name = "{{provider}}", auto-initialize = on }
            """;
    }

    /// <summary>The Akka.Persistence.Sql plugins' own defaults (journal and snapshot store classes, table layouts).</summary>
    public static Config PluginDefaults => Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration;

    private string OpenSqlite()
    {
        var connection = new SqliteConnectionStringBuilder { DataSource = System.IO.Path.GetFullPath(Path), DefaultTimeout = 30 }.ToString();
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
            using var sqlite = new SqliteConnection(connection);
            sqlite.Open();
            using var wal = sqlite.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{SectionName}:Path: cannot open the SQLite journal '{Path}' ({e.Message})", e);
        }

        return connection;
    }

    private string PostgresConnection()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        if (!string.IsNullOrEmpty(PasswordFile))
        {
            builder.Password = SecretFiles.Read($"{SectionName}:PasswordFile", PasswordFile);
        }

        return builder.ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
