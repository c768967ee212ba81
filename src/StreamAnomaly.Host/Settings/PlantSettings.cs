using System.Net;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Host.Settings;

/// <summary>The HTTP side of a node (section "Http").</summary>
public sealed record HttpSettings
{
    /// <summary>host:port for /metrics, /healthz, /readyz (and the dashboard); port 0 picks a free one.</summary>
    public string Listen { get; init; } = "127.0.0.1:9464";

    /// <summary>The parsed endpoint; throws when <see cref="Listen"/> is not host:port.</summary>
    public IPEndPoint Endpoint => IPEndPoint.Parse(Listen);
}

/// <summary>Worker settings (section "Worker").</summary>
public sealed record WorkerConfig
{
    /// <summary>Model bundle files (any detector kind); a newer file version is picked up without a restart.</summary>
    public string[] Bundles { get; init; } = [];

    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Cells per side of the residual and mask grids sent to aggregators.</summary>
    public int GridSize { get; init; } = 16;

    public int MaxBatchSize { get; init; } = 16;

    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(50);

    public int MaxQueuedPerLiveCamera { get; init; } = 2;

    /// <summary>How long a worker waits for an aggregator's acknowledgement before resending.</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often bundle files are checked for a newer version.</summary>
    public TimeSpan BundlePollInterval { get; init; } = TimeSpan.FromSeconds(5);

    public BatchingOptions Batching => new(MaxBatchSize, MaxWait, MaxQueuedPerLiveCamera);
}

/// <summary>
/// Everything a node is configured with: config/appsettings.json (embedded: every default), then
/// an optional file (<c>--config</c>), then environment variables <c>STREAMANOMALY__SECTION__KEY</c>
/// (Kubernetes-friendly). <see cref="Validate"/> names the key of every problem.
/// </summary>
public sealed record PlantSettings
{
    /// <summary>Prefix of the environment variables read (double underscore separates levels).</summary>
    public const string EnvironmentPrefix = "STREAMANOMALY__";

    public NodeOptions Node { get; init; } = NodeOptions.SingleNode;

    public KafkaOptions Kafka { get; init; } = new();

    public HttpSettings Http { get; init; } = new();

    public WorkerConfig Worker { get; init; } = new();

    public AggregationOptions Aggregation { get; init; } = AggregationOptions.Default;

    public LineOptions[] Lines { get; init; } = [];

    /// <summary>Camera id -> line id of every configured camera.</summary>
    public IReadOnlyDictionary<string, string> CameraLines => Lines.SelectMany(l => l.Cameras.Select(c => (c.Id, l.Id))).ToDictionary(static p => p.Item1, static p => p.Item2);

    /// <summary>Loads the layered configuration; throws <see cref="InvalidConfigurationException"/> listing every problem.</summary>
    public static PlantSettings Load(string? file = null, IDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        using var defaults = Assembly.GetExecutingAssembly().GetManifestResourceStream("StreamAnomaly.appsettings.json")
            ?? throw new InvalidOperationException("embedded appsettings.json missing");
        builder.AddJsonStream(defaults);
        if (file is not null)
        {
            if (!File.Exists(file))
            {
                throw new InvalidConfigurationException([$"{file}: configuration file not found"]);
            }

            builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new InvalidConfigurationException([$"{file ?? "configuration"}: {e.GetBaseException().Message}"]);
        }

        PlantSettings settings;
        try
        {
            settings = new PlantSettings
            {
                Node = BindNode(root.GetSection("Node")),
                Kafka = Bind<KafkaOptions>(root, KafkaOptions.SectionName),
                Http = Bind<HttpSettings>(root, "Http"),
                Worker = Bind<WorkerConfig>(root, "Worker"),
                Aggregation = Bind<AggregationOptions>(root, "Aggregation"),
                Lines = root.GetSection("Lines").GetChildren().Select((s, i) => BindLine(s, i)).ToArray(),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidConfigurationException([e.GetBaseException().Message]);
        }

        settings.EnsureValid();
        return settings;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> when <see cref="Validate"/> finds problems.</summary>
    public PlantSettings EnsureValid()
    {
        var errors = Validate();
        return errors.Count == 0 ? this : throw new InvalidConfigurationException(errors);
    }

    /// <summary>Every problem, each naming its configuration key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        errors.AddRange(Node.Validate());
        errors.AddRange(Kafka.Validate());
        errors.AddRange(Aggregation.Validate());
        errors.AddRange(Worker.Batching.Validate());
        if (!IPEndPoint.TryParse(Http.Listen, out _))
        {
            errors.Add($"Http:Listen must be ip:port, got '{Http.Listen}'");
        }

        if (Worker.Device is not ("cpu" or "cuda"))
        {
            errors.Add($"Worker:Device must be cpu or cuda, got '{Worker.Device}'");
        }

        if (Worker.GridSize is < 1 or > 64)
        {
            errors.Add($"Worker:GridSize must be in [1, 64], got {Worker.GridSize}");
        }

        if (Worker.AckTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Worker:AckTimeout must be > 0, got {Worker.AckTimeout}");
        }

        if (Worker.BundlePollInterval <= TimeSpan.Zero)
        {
            errors.Add($"Worker:BundlePollInterval must be > 0, got {Worker.BundlePollInterval}");
        }

        for (var b = 0; b < Worker.Bundles.Length; b++)
        {
            if (!File.Exists(Worker.Bundles[b]))
            {
                errors.Add($"Worker:Bundles:{b}: bundle file '{Worker.Bundles[b]}' not found");
            }
        }

        var cameraIds = new HashSet<string>(StringComparer.Ordinal);
        var lineIds = new HashSet<string>(StringComparer.Ordinal);
        for (var l = 0; l < Lines.Length; l++)
        {
            var line = Lines[l];
            var key = $"Lines:{l}";
            if (!Ids.IsValid(line.Id))
            {
                errors.Add($"{key}:Id must be 1-{Ids.MaxLength} letters, digits, '-', '_' or '.', got '{line.Id}'");
            }
            else if (!lineIds.Add(line.Id))
            {
                errors.Add($"{key}:Id '{line.Id}' is used by another line");
            }

            if (line.Cameras.Length == 0)
            {
                errors.Add($"{key}:Cameras must list at least one camera");
            }

            for (var c = 0; c < line.Cameras.Length; c++)
            {
                errors.AddRange(ValidateCamera(line.Cameras[c], $"{key}:Cameras:{c}", cameraIds));
            }
        }

        return errors;
    }

    private static IEnumerable<string> ValidateCamera(CameraOptions camera, string key, HashSet<string> seen)
    {
        if (!Ids.IsValid(camera.Id))
        {
            yield return $"{key}:Id must be 1-{Ids.MaxLength} letters, digits, '-', '_' or '.', got '{camera.Id}'";
        }
        else if (!seen.Add(camera.Id))
        {
            yield return $"{key}:Id '{camera.Id}' is used by another camera";
        }

        if (string.IsNullOrWhiteSpace(camera.Source) || !camera.Source.Contains(':', StringComparison.Ordinal))
        {
            yield return $"{key}:Source must be a source URI (synthetic:SEED, file:PATH, folder:PATH, mjpeg:URL, ffmpeg:URL), got '{camera.Source}'";
        }

        if (!(camera.Fps > 0 && camera.Fps <= CameraOptions.MaxFps))
        {
            yield return $"{key}:Fps must be in (0, {CameraOptions.MaxFps}], got {camera.Fps}";
        }

        if (camera.Width is < 16 or > 4096 || camera.Height is < 16 or > 4096)
        {
            yield return $"{key}:Width and Height must be in [16, 4096], got {camera.Width}x{camera.Height}";
        }

        if (camera.Roi is { } roi && (roi.X < 0 || roi.Y < 0 || roi.Width <= 0 || roi.Height <= 0))
        {
            yield return $"{key}:Roi must have X, Y >= 0 and Width, Height > 0, got {roi}";
        }
    }

    private static T Bind<T>(IConfiguration root, string section)
        where T : class
    {
        var value = root.GetSection(section).Get<T>(o => o.ErrorOnUnknownConfiguration = true);
        return value ?? throw new InvalidOperationException($"configuration section '{section}' is missing");
    }

    /// <summary>
    /// Section "Node", bound by hand: <see cref="NodeOptions"/> is a positional record, and the
    /// binder hands an empty JSON array (appsettings' <c>"SeedNodes": []</c>) to its constructor
    /// as a string, which fails for every node. Array entries that are empty or null (an
    /// override that removes an entry, like <c>run --roles</c>) are left out.
    /// </summary>
    private static NodeOptions BindNode(IConfigurationSection section)
    {
        string[] known = ["ClusterName", "Host", "Port", "SeedNodes", "Roles"];
        var unknown = section.GetChildren().Select(static c => c.Key).Where(k => !known.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"Node: unknown setting(s) {string.Join(", ", unknown)} (known: {string.Join(", ", known)})");
        }

        static string[] List(IConfigurationSection list) =>
            list.GetChildren().OrderBy(static c => int.TryParse(c.Key, out var i) ? i : int.MaxValue).Select(static c => c.Value).OfType<string>().Where(static v => v.Length > 0).ToArray();

        var defaults = NodeOptions.SingleNode;
        var port = section["Port"];
        return new NodeOptions(
            section["ClusterName"] ?? defaults.ClusterName,
            section["Host"] ?? defaults.Host,
            string.IsNullOrEmpty(port) ? defaults.Port
                : int.TryParse(port, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p
                : throw new InvalidOperationException($"Node:Port must be an integer, got '{port}'"),
            List(section.GetSection("SeedNodes")),
            section.GetSection("Roles").Exists() ? List(section.GetSection("Roles")) : defaults.Roles);
    }

    private static LineOptions BindLine(IConfigurationSection section, int index)
    {
        var id = section["Id"] ?? string.Empty;
        var cameras = section.GetSection("Cameras").GetChildren().Select(c => c.Get<CameraOptions>(o => o.ErrorOnUnknownConfiguration = true)
            ?? throw new InvalidOperationException($"Lines:{index}:Cameras:{c.Key} is empty")).ToArray();
        return new LineOptions(id, cameras);
    }
}

/// <summary>Configuration refused at start; the message lists every problem, each naming its key.</summary>
public sealed class InvalidConfigurationException(IReadOnlyList<string> errors)
    : Exception("invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(static e => "  " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
