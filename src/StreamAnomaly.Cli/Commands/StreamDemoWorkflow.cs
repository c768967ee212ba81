using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Streaming;

namespace StreamAnomaly.Cli.Commands;

/// <summary>How big a streaming demo to run, and the detectors it commissions (each scores every frame; the aggregators fuse them).</summary>
internal sealed record StreamDemoRequest(
    int Cameras, int Lines, double DurationSeconds, string? Bundle, double InjectEverySeconds, int Seed, int Size, double Fps, IReadOnlyList<CommissioningOptions> Commissioning);

/// <summary>What the demo saw (printed as its summary; returned for tests).</summary>
internal sealed record StreamDemoSummary(
    IReadOnlyList<(string Line, string Camera, string Kind, double At, double? AlarmAfter)> Injections,
    int FalseAlarms,
    long FramesDecided,
    double FramesPerSecond,
    double LatencyP50,
    double LatencyP99,
    IReadOnlyList<double> CycleSeconds);

/// <summary>
/// The product on embedded defaults, in one process: synthetic cameras on several production
/// lines -> the embedded Kafka broker -> a worker -> line aggregators -> alarms, on a one-node
/// cluster with every role. Commissioning first (fit and calibrate the chosen detector, PatchCore by
/// default, on the cameras' first normal frames, or load <c>--bundle</c>), then anomalies are injected on one
/// line at a time while a live view shows each line; a summary closes the run.
/// </summary>
internal static class StreamDemoWorkflow
{
    private static IReadOnlyList<string> Kinds => Host.Cameras.CameraRunnerFactory.ScheduledKinds;

    /// <summary>The demo's own in-process plant: loopback only, anomaly injection on (the demo injects them, and so may whoever watches it).</summary>
    public static PlantSettings Plant(StreamDemoRequest request) => new()
    {
        Http = new HttpSettings { Listen = "127.0.0.1:0", AnomalyInjection = true },
        Lines = Enumerable.Range(0, request.Lines).Select(l =>
        {
            var line = $"line-{(char)('a' + (l % 26))}{(l >= 26 ? (l / 26).ToString(CultureInfo.InvariantCulture) : string.Empty)}";
            var cameras = Enumerable.Range(0, request.Cameras).Where(c => c % request.Lines == l)
                .Select(c => new CameraOptions($"{line}-cam{(c / request.Lines) + 1}", $"synthetic:{request.Seed + c}", request.Fps, request.Size, request.Size))
                .ToArray();
            return new LineOptions(line, cameras);
        }).ToArray(),
    };

    public static async Task<StreamDemoSummary> RunAsync(StreamDemoRequest request, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Cameras < request.Lines || request.Lines < 1)
        {
            throw new ArgumentException($"--cameras ({request.Cameras}) must be at least --lines ({request.Lines}), and --lines at least 1");
        }

        // The line aggregators' journal: a SQLite file as a configured node keeps it, in a folder of this run only.
        using var journal = new RunFolder();
        var settings = (Plant(request) with { Journal = new JournalOptions { Provider = "sqlite", Path = Path.Combine(journal.Path, "journal.db") } }).EnsureValid();
        var scorers = Commission(request, settings);
        var recorder = new DemoRecorder();
        AnsiConsole.Write(new Rule("starting the plant"));
        await using var node = await PlantNode.StartAsync(
            settings,
            new NodeServices { Time = time, Scorers = () => scorers, Observer = recorder, Log = line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]") },
            cancellationToken);
        AnsiConsole.MarkupLine($"metrics: [bold]{node.StatusAddress}metrics[/]   Kafka: [bold]{Markup.Escape(node.BootstrapServers)}[/]");
        if (node.DashboardAddress is { } dashboard)
        {
            AnsiConsole.MarkupLine($"dashboard: [bold]{dashboard}[/] (live camera tiles, residual heatmaps, alarms)");
        }

        var injections = new List<(string Line, string Camera, string Kind, DateTimeOffset At)>();
        var start = time.GetUtcNow();
        var end = start.AddSeconds(request.DurationSeconds);
        var nextInjection = start.AddSeconds(Math.Min(request.InjectEverySeconds, request.DurationSeconds / 3));
        var random = new Random(request.Seed);
        var interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

        async Task Loop(Action refresh)
        {
            var lastPrint = start;
            while (time.GetUtcNow() < end)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken);
                var now = time.GetUtcNow();
                if (now >= nextInjection && now < end.AddSeconds(-Math.Min(10, request.DurationSeconds / 4)))
                {
                    var line = settings.Lines[injections.Count % settings.Lines.Length];
                    var camera = line.Cameras[random.Next(line.Cameras.Length)].Id;
                    var kind = Kinds[injections.Count % Kinds.Count];
                    var reply = await node.InjectAsync(camera, kind);
                    if (reply.Error is null)
                    {
                        injections.Add((line.Id, camera, kind, now));
                    }

                    nextInjection = now.AddSeconds(request.InjectEverySeconds);
                }

                if (interactive || now - lastPrint >= TimeSpan.FromSeconds(5))
                {
                    refresh();
                    lastPrint = now;
                }
            }
        }

        if (interactive)
        {
            await AnsiConsole.Live(View(recorder, settings, injections, start, time)).StartAsync(ctx => Loop(() => ctx.UpdateTarget(View(recorder, settings, injections, start, time))));
        }
        else
        {
            await Loop(() => AnsiConsole.Write(View(recorder, settings, injections, start, time)));
        }

        var summary = Summarise(recorder, injections, start, time.GetUtcNow(), request.InjectEverySeconds);
        Print(summary);
        return summary;
    }

    private static IReadOnlyList<IFrameScorer> Commission(StreamDemoRequest request, PlantSettings settings)
    {
        if (request.Bundle is not null)
        {
            AnsiConsole.MarkupLine($"loading model bundle [bold]{Markup.Escape(request.Bundle)}[/]");
            return [DetectorFrameScorer.Load(request.Bundle, TorchDevices.Parse("cpu"))];
        }

        var seconds = request.Commissioning.Max(static o => o.Seconds);
        AnsiConsole.Write(new Rule($"commissioning {string.Join(" + ", request.Commissioning.Select(static o => o.Detector))}: learn normal from the cameras' first {seconds:0} s"));
        var footage = Commissioning.NormalFootage(settings.Lines.SelectMany(static l => l.Cameras), seconds);
        return request.Commissioning.Select(options => (IFrameScorer)ConsoleProgress.Training(progress => Commissioning.Scorer(footage, options, progress)).Result).ToArray();
    }

    private static IRenderable View(DemoRecorder recorder, Host.Settings.PlantSettings settings, List<(string Line, string Camera, string Kind, DateTimeOffset At)> injections, DateTimeOffset start, TimeProvider time)
    {
        var elapsed = (time.GetUtcNow() - start).TotalSeconds;
        var table = new Table().Title($"StreamAnomaly demo  t = {elapsed:0} s  frames decided {recorder.FramesDecided} ({recorder.FramesDecided / Math.Max(elapsed, 1e-9):0.0}/s)  p99 latency {recorder.LatencyPercentile(99) * 1000:0} ms");
        table.AddColumns("line", "state", "cameras (smoothed score)", "alarms raised", "injected");
        foreach (var line in settings.Lines)
        {
            recorder.Lines.TryGetValue(line.Id, out var view);
            var state = view?.Active is { } alarm ? $"[red]ALARM[/] {Markup.Escape(string.Join(",", alarm.Cameras))}" : "[green]ok[/]";
            var scores = string.Join("  ", line.Cameras.Select(c => view is not null && view.Scores.TryGetValue(c.Id, out var s) ? $"{c.Id} {s:0.00}" : $"{c.Id} -"));
            var raised = recorder.Alarms.Count(a => a.Line == line.Id && a.Phase == AlarmPhase.Raised);
            table.AddRow(Markup.Escape(line.Id), state, Markup.Escape(scores), raised.ToString(CultureInfo.InvariantCulture), injections.Count(i => i.Line == line.Id).ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }

    internal static StreamDemoSummary Summarise(DemoRecorder recorder, List<(string Line, string Camera, string Kind, DateTimeOffset At)> injections, DateTimeOffset start, DateTimeOffset end, double window)
    {
        var raised = recorder.Alarms.Where(static a => a.Phase == AlarmPhase.Raised).ToList();
        var matched = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<(string, string, string, double, double?)>();
        foreach (var injection in injections)
        {
            var alarm = raised.Where(a => a.Line == injection.Line && a.At >= injection.At && a.At <= injection.At.AddSeconds(window) && !matched.Contains(a.AlarmId))
                .OrderBy(static a => a.At).FirstOrDefault();
            if (alarm is not null)
            {
                matched.Add(alarm.AlarmId);
            }

            rows.Add((injection.Line, injection.Camera, injection.Kind, (injection.At - start).TotalSeconds, alarm is null ? null : (alarm.At - injection.At).TotalSeconds));
        }

        // an alarm raised while an injected anomaly is still on screen (same line) is that anomaly's, not a false one
        var falseAlarms = raised.Count(a => !matched.Contains(a.AlarmId) && !injections.Any(i => i.Line == a.Line && a.At >= i.At && a.At <= i.At.AddSeconds(window)));
        var seconds = Math.Max((end - start).TotalSeconds, 1e-9);
        return new StreamDemoSummary(rows, falseAlarms, recorder.FramesDecided, recorder.FramesDecided / seconds, recorder.LatencyPercentile(50), recorder.LatencyPercentile(99), [.. recorder.Cycles]);
    }

    private static void Print(StreamDemoSummary summary)
    {
        AnsiConsole.Write(new Rule("summary"));
        var table = new Table().AddColumns("t (s)", "line", "camera", "injected anomaly", "alarm after (s)");
        foreach (var (line, camera, kind, at, after) in summary.Injections)
        {
            table.AddRow($"{at:0}", Markup.Escape(line), Markup.Escape(camera), Markup.Escape(kind), after is { } a ? $"{a:0.0}" : "[red]missed[/]");
        }

        AnsiConsole.Write(table);
        var detected = summary.Injections.Count(static i => i.AlarmAfter is not null);
        AnsiConsole.MarkupLine($"injected anomalies with an alarm on their line: [bold]{detected}/{summary.Injections.Count}[/]");
        AnsiConsole.MarkupLine($"false alarms: [bold]{summary.FalseAlarms}[/]");
        AnsiConsole.MarkupLine($"frames decided: [bold]{summary.FramesDecided}[/] ({summary.FramesPerSecond:0.0} frames/s)");
        AnsiConsole.MarkupLine($"latency capture -> decision: p50 [bold]{summary.LatencyP50 * 1000:0}[/] ms, p99 [bold]{summary.LatencyP99 * 1000:0}[/] ms");
        if (summary.CycleSeconds.Count > 0)
        {
            AnsiConsole.MarkupLine($"machine cycles timed: [bold]{summary.CycleSeconds.Count}[/], {summary.CycleSeconds.Min():0.0}-{summary.CycleSeconds.Max():0.0} s (mean {summary.CycleSeconds.Average():0.0} s)");
        }
    }

    /// <summary>A temporary folder, deleted with what is in it.</summary>
    private sealed class RunFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("streamanomaly-demo-").FullName;

        public void Dispose()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Path, recursive: true);
        }
    }
}
