using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Microsoft.Data.Sqlite;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Scoring;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host.Settings;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// A line aggregator's state in the real journals a plant configures (Akka.Persistence.Sql on a
/// SQLite file and on Debian's PostgreSQL): an actor system that held a line with an active alarm
/// is shut down, a new one (a new node) takes the line from the same journal.
/// </summary>
public sealed class LineJournalTests : IDisposable
{
    private const string Line = "line-j";
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private static readonly AggregationOptions Options = AggregationOptions.Default with { SmoothingAlpha = 1 };

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("journal-tests-");

    [Fact]
    public async Task A_line_on_a_sqlite_journal_keeps_its_alarm_and_decided_frames_on_a_new_node()
    {
        await AssertLineSurvivesAsync(new JournalOptions { Provider = "sqlite", Path = Path.Combine(_folder.FullName, "state", "journal.db") }, Options);
    }

    [Fact]
    public async Task A_line_on_a_postgresql_journal_keeps_its_alarm_and_decided_frames_on_a_new_node()
    {
        await using var postgres = await Postgres.StartAsync();
        var journal = new JournalOptions { Provider = "postgresql", ConnectionString = postgres.ConnectionString, PasswordFile = postgres.WritePasswordFile() };
        Assert.Empty(journal.Validate());
        await AssertLineSurvivesAsync(journal, Options);
    }

    [Fact]
    public async Task A_line_restored_from_a_sqlite_snapshot_keeps_its_alarm_and_its_journal_stays_short()
    {
        var path = Path.Combine(_folder.FullName, "journal.db");
        await AssertLineSurvivesAsync(new JournalOptions { Provider = "sqlite", Path = path }, Options with { SnapshotEvery = 2 });
        await using var sqlite = new SqliteConnection($"Data Source={path}");
        await sqlite.OpenAsync();
        await using var rows = sqlite.CreateCommand();
        rows.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id";
        rows.Parameters.AddWithValue("$id", LineAggregatorActor.JournalId(Line));
        var left = Convert.ToInt64(await rows.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(left < 6, $"{left} journal entries left after snapshots every 2 decisions (6 decisions, an alarm event)");
    }

    [Fact]
    public void A_sqlite_journal_that_cannot_be_opened_is_a_configuration_error_naming_its_key()
    {
        var file = Path.Combine(_folder.FullName, "a-file");
        File.WriteAllText(file, "not a folder");
        var error = Assert.Throws<InvalidOperationException>(() => new JournalOptions { Provider = "sqlite", Path = Path.Combine(file, "journal.db") }.ToHocon());
        Assert.StartsWith("Journal:Path: cannot open the SQLite journal", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }

    /// <summary>
    /// Node 1 decides three hot frames (the alarm is raised and published) and shuts down; node 2
    /// on the same journal has the alarm, takes a frame node 1 decided as a duplicate, decides only
    /// the new frames, and raises nothing new while the anomaly goes on.
    /// </summary>
    private static async Task AssertLineSurvivesAsync(JournalOptions journal, AggregationOptions options)
    {
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = ERROR")
            .WithFallback(NodeOptions.SingleNode.ToAkkaConfig(journal.ToHocon()))
            .WithFallback(JournalOptions.PluginDefaults);

        var first = new Sink();
        var node1 = ActorSystem.Create("node1", config);
        try
        {
            var line = node1.ActorOf(LineAggregatorActor.Props(Line, options, [first], NullPipelineObserver.Instance, TimeProvider.System));
            for (var s = 0; s < 3; s++)
            {
                Assert.Equal([new FrameKey("cam", s)], (await line.Ask<FramesAccepted>(Partial(s), TimeSpan.FromSeconds(30))).Frames);
            }

            Assert.True(await Eventually.True(() => first.Published.Count == 1, TimeSpan.FromSeconds(10)), "node 1 published the raise");
        }
        finally
        {
            await node1.Terminate();
        }

        var second = new Sink();
        var decided = new PlantRecorder();
        var node2 = ActorSystem.Create("node2", config);
        try
        {
            var line = node2.ActorOf(LineAggregatorActor.Props(Line, options, [second], decided, TimeProvider.System));
            var status = await line.Ask<LineStatus>(new GetLineStatus(Line), TimeSpan.FromSeconds(30));
            Assert.Equal($"{Line}:cam:2", status.ActiveAlarm?.AlarmId);
            Assert.Equal([new FrameKey("cam", 1)], (await line.Ask<FramesAccepted>(Partial(1), TimeSpan.FromSeconds(30))).Frames);
            for (var s = 3; s < 6; s++)
            {
                await line.Ask<FramesAccepted>(Partial(s), TimeSpan.FromSeconds(30));
            }

            // Only the three new frames are decided (the observer hears of a decision just after its
            // acknowledgement went out). Nothing new is raised; the raise may come again (same
            // idempotency key) when node 1 went down before its confirmation reached the journal:
            // at least once, never twice raised.
            await Task.Delay(300);
            Assert.Equal(3, decided.Decided);
            Assert.All(second.Published, a => Assert.Equal($"{Line}:cam:2/0", a.IdempotencyKey));
        }
        finally
        {
            await node2.Terminate();
        }
    }

    private static PartialResult Partial(long sequence) =>
        new(new FrameKey("cam", sequence), Line, T0.AddMilliseconds(sequence * 200), "fake", 1, 19, new ScoreCalibration(10, 0, 20, 99),
            new ResidualGrid(2, 2, 1, [255, 255, 255, 255]), null);

    private sealed class Sink : IAlarmSink
    {
        public string Name => "kafka";

        public ConcurrentQueue<AlarmEvent> Published { get; } = new();

        public Task PublishAsync(AlarmEvent alarm, CancellationToken cancellationToken)
        {
            Published.Enqueue(alarm);
            return Task.CompletedTask;
        }
    }
}
