using System.Net;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using StreamAnomaly.Cluster;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Kafka;
using StreamAnomaly.Ingest.Mqtt;

namespace StreamAnomaly.Host.Settings;

/// <summary>The HTTP side of a node (section "Http"); who may use it: <see cref="Http.HttpAccess"/>.</summary>
public sealed record HttpSettings
{
    /// <summary>Fewest and most dashboard event streams <see cref="MaxEventStreams"/> may allow.</summary>
    public const int MaxEventStreamsLimit = 1024;

    /// <summary>host:port for /metrics, /healthz, /readyz (and the dashboard); port 0 picks a free one.</summary>
    public string Listen { get; init; } = "127.0.0.1:9464";

    /// <summary>Maps <c>POST /cameras/{camera}/anomalies</c> (inject an anomaly on a synthetic camera: demos and tests); off by default.</summary>
    public bool AnomalyInjection { get; init; }

    /// <summary>
    /// The token protected routes need. Only from the environment (<c>STREAMANOMALY__HTTP__TOKEN</c>)
    /// or set in-process: a configuration file that holds it is refused, so it never lands in a
    /// checked-in file. Prefer <see cref="TokenFile"/>.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>File holding the token (a Kubernetes Secret or compose secret mounted as a file); wins over <see cref="Token"/>.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Host names protected routes answer to; empty = the loopback names on a loopback listener, any name otherwise.</summary>
    public string[] AllowedHosts { get; init; } = [];

    /// <summary>Most dashboard event streams open at once (each holds a connection); more are refused with 503 and counted.</summary>
    public int MaxEventStreams { get; init; } = 16;

    /// <summary>Raised alarms whose evidence (frame, heatmap, masks, scores) an aggregator node keeps for <c>/alarms/{id}</c>; the oldest go first.</summary>
    public int MaxAlarmEvidence { get; init; } = 100;

    /// <summary>Most bytes the kept alarm evidence may hold (frames mostly); the oldest go first.</summary>
    public long MaxAlarmEvidenceBytes { get; init; } = 32L << 20;

    /// <summary>The parsed endpoint; throws when <see cref="Listen"/> is not host:port.</summary>
    public IPEndPoint Endpoint => IPEndPoint.Parse(Listen);

    /// <summary>True when <see cref="Listen"/> is a loopback address (127.0.0.0/8, ::1): only this machine can connect.</summary>
    public bool IsLoopback => IPEndPoint.TryParse(Listen, out var endpoint) && IPAddress.IsLoopback(endpoint.Address);

    /// <summary>True when a token is configured (its value is checked when the node starts).</summary>
    public bool HasToken => !string.IsNullOrEmpty(Token) || !string.IsNullOrEmpty(TokenFile);

    /// <summary>Every property but the token's value, so that printing settings never shows it.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"Listen = {Listen}, AnomalyInjection = {AnomalyInjection}, Token = {(Token is null ? "null" : "***")}, TokenFile = {TokenFile}, AllowedHosts = [{string.Join(", ", AllowedHosts)}], MaxEventStreams = {MaxEventStreams}, MaxAlarmEvidence = {MaxAlarmEvidence}, MaxAlarmEvidenceBytes = {MaxAlarmEvidenceBytes}");
        return true;
    }
}

/// <summary>Worker settings (section "Worker").</summary>
public sealed record WorkerConfig
{
    /// <summary>
    /// The plant's default model bundle files (any detector kind): they score every camera whose
    /// line or camera entry names no bundles of its own. A newer file version is picked up without a restart.
    /// </summary>
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

    /// <summary>
    /// File holding the bundle signing key (<see cref="Core.Bundles.BundleKey"/>); when set, only
    /// bundles signed with it load, at start and on every reload. Null: integrity only.
    /// </summary>
    public string? BundleKeyFile { get; init; }

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

    /// <summary>Protection of cluster traffic: TLS with pinned certificates, or plaintext where allowed.</summary>
    public ClusterSecurityOptions Cluster { get; init; } = new();

    public KafkaOptions Kafka { get; init; } = new();

    public HttpSettings Http { get; init; } = new();

    public WorkerConfig Worker { get; init; } = new();

    public AggregationOptions Aggregation { get; init; } = AggregationOptions.Default;

    /// <summary>
    /// Where line aggregators keep their journal. The configuration file's default
    /// (config/appsettings.json, what <c>run</c> starts from) is a SQLite file; a plant built in code
    /// (demo, bench, tests) keeps it in memory unless it says otherwise.
    /// </summary>
    public JournalOptions Journal { get; init; } = new() { Provider = "memory" };

    /// <summary>Alarms also published on MQTT (off unless <see cref="MqttOptions.Server"/> is set).</summary>
    public MqttOptions Mqtt { get; init; } = new();

    public LineOptions[] Lines { get; init; } = [];

    /// <summary>Camera id -> line id of every configured camera.</summary>
    public IReadOnlyDictionary<string, string> CameraLines => Lines.SelectMany(l => l.Cameras.Select(c => (c.Id, l.Id))).ToDictionary(static p => p.Item1, static p => p.Item2);

    /// <summary>Camera id -> the model bundles that score it (<see cref="BundlesFor"/>) of every configured camera.</summary>
    public IReadOnlyDictionary<string, string[]> CameraBundles =>
        Lines.SelectMany(l => l.Cameras.Select(c => (c.Id, Bundles: BundlesFor(l, c)))).ToDictionary(static p => p.Id, static p => p.Bundles, StringComparer.Ordinal);

    /// <summary>The model bundles that score <paramref name="camera"/> of <paramref name="line"/>: the camera's own, else its line's, else <see cref="WorkerConfig.Bundles"/>.</summary>
    public string[] BundlesFor(LineOptions line, CameraOptions camera)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(camera);
        return camera.Bundles ?? line.Bundles ?? Worker.Bundles;
    }

    /// <summary>
    /// Each camera that no bundle scores (its entry, its line and Worker:Bundles name none), as a
    /// line naming the keys that would route it; a node with the worker role refuses to start on them.
    /// </summary>
    public IReadOnlyList<string> UnroutedCameras() =>
        [.. Lines.SelectMany((l, li) => l.Cameras.Select((c, ci) => (Line: l, Camera: c, Key: $"Lines:{li}:Cameras:{ci}", LineKey: $"Lines:{li}")))
            .Where(p => BundlesFor(p.Line, p.Camera).Length == 0)
            .Select(static p => $"{p.Key}: camera '{p.Camera.Id}' has no model bundle: name one in {p.Key}:Bundles, {p.LineKey}:Bundles or Worker:Bundles (train one with `streamanomaly train`)")];

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

            if (FileKinds.Of(file) is not FileKind.Regular and var kind)
            {
                throw new InvalidConfigurationException([$"{file}: is {FileKinds.Describe(kind)}, not a regular file"]);
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

        var inline = InlineSecrets(root).ToList();
        var unknown = UnknownKeys(root).Where(e => !inline.Any(i => e.StartsWith(i.Key + ":", StringComparison.OrdinalIgnoreCase))).ToList();
        unknown.AddRange(inline.Select(static i => i.Error));
        unknown.AddRange(TokenInFiles(root));
        if (unknown.Count > 0)
        {
            throw new InvalidConfigurationException(unknown);
        }

        PlantSettings settings;
        try
        {
            settings = new PlantSettings
            {
                Node = BindNode(root.GetSection("Node")),
                Cluster = Bind<ClusterSecurityOptions>(root, ClusterSecurityOptions.SectionName),
                Kafka = Bind<KafkaOptions>(root, KafkaOptions.SectionName),
                Http = Bind<HttpSettings>(root, "Http"),
                Worker = Bind<WorkerConfig>(root, "Worker"),
                Aggregation = Bind<AggregationOptions>(root, "Aggregation"),
                Mqtt = root.GetSection(MqttOptions.SectionName).Get<MqttOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new MqttOptions(),
                Journal = root.GetSection(JournalOptions.SectionName).Get<JournalOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new JournalOptions(),
                Lines = root.GetSection("Lines").GetChildren().Select((s, i) => BindLine(s, i)).ToArray(),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidConfigurationException([Explain(e, root)]);
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
        errors.AddRange(Cluster.Validate(Node));
        errors.AddRange(Kafka.Validate());
        errors.AddRange(Aggregation.Validate());
        errors.AddRange(Mqtt.Validate());
        errors.AddRange(Journal.Validate());
        errors.AddRange(Worker.Batching.Validate());
        if (!IPEndPoint.TryParse(Http.Listen, out _))
        {
            errors.Add($"Http:Listen must be ip:port, got '{Http.Listen}'");
        }
        else if (!Http.IsLoopback && !Http.HasToken)
        {
            errors.Add($"Http:Listen {Http.Listen} is reachable from other machines, so the dashboard and commands need a token: set Http:TokenFile (a file holding it) or STREAMANOMALY__HTTP__TOKEN");
        }

        if (Http.MaxEventStreams is < 1 or > HttpSettings.MaxEventStreamsLimit)
        {
            errors.Add($"Http:MaxEventStreams must be in [1, {HttpSettings.MaxEventStreamsLimit}], got {Http.MaxEventStreams}");
        }

        if (Http.MaxAlarmEvidence is < 1 or > 100_000)
        {
            errors.Add($"Http:MaxAlarmEvidence must be in [1, 100000], got {Http.MaxAlarmEvidence}");
        }

        if (Http.MaxAlarmEvidenceBytes is < 1 << 20 or > 1L << 34)
        {
            errors.Add($"Http:MaxAlarmEvidenceBytes must be in [1 MiB, 16 GiB], got {Http.MaxAlarmEvidenceBytes}");
        }

        if (Http.AllowedHosts.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("Http:AllowedHosts must not hold an empty name");
        }

        if (!string.IsNullOrEmpty(Worker.BundleKeyFile) && !File.Exists(Worker.BundleKeyFile))
        {
            errors.Add($"Worker:BundleKeyFile: key file '{Worker.BundleKeyFile}' not found");
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

        errors.AddRange(MissingBundles("Worker:Bundles", Worker.Bundles));

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

            errors.AddRange(MissingBundles($"{key}:Bundles", line.Bundles));
            for (var c = 0; c < line.Cameras.Length; c++)
            {
                errors.AddRange(ValidateCamera(line.Cameras[c], $"{key}:Cameras:{c}", cameraIds));
                errors.AddRange(MissingBundles($"{key}:Cameras:{c}:Bundles", line.Cameras[c].Bundles));
            }
        }

        return errors;
    }

    /// <summary>One line per entry of <paramref name="bundles"/> (the list at <paramref name="key"/>) that is empty or names no file, and one for a list given but empty.</summary>
    private static IEnumerable<string> MissingBundles(string key, string[]? bundles)
    {
        if (bundles is null)
        {
            yield break;
        }

        if (bundles.Length == 0 && key != "Worker:Bundles")
        {
            yield return $"{key} is given but empty: name at least one bundle, or leave it out to use the default";
        }

        for (var b = 0; b < bundles.Length; b++)
        {
            if (string.IsNullOrWhiteSpace(bundles[b]))
            {
                yield return $"{key}:{b} is empty";
            }
            else if (!File.Exists(bundles[b]))
            {
                yield return $"{key}:{b}: bundle file '{bundles[b]}' not found";
            }
        }
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

    /// <summary>The sections a configuration may have, each with the record it binds to (null: bound by hand).</summary>
    private static readonly (string Name, Type? Type)[] Sections =
    [
        ("Node", null), (ClusterSecurityOptions.SectionName, typeof(ClusterSecurityOptions)), (KafkaOptions.SectionName, typeof(KafkaOptions)), ("Http", typeof(HttpSettings)),
        ("Worker", typeof(WorkerConfig)), ("Aggregation", typeof(AggregationOptions)), (MqttOptions.SectionName, typeof(MqttOptions)), (JournalOptions.SectionName, typeof(JournalOptions)), ("Lines", null),
    ];

    /// <summary>The settings of a line entry (bound by hand).</summary>
    private static readonly string[] LineKeys = ["Id", "Bundles", "Cameras"];

    /// <summary>One line per section or key that no setting reads: a typo would otherwise leave the default in place silently.</summary>
    private static IEnumerable<string> UnknownKeys(IConfiguration root)
    {
        foreach (var section in root.GetChildren())
        {
            var known = Sections.FirstOrDefault(s => string.Equals(s.Name, section.Key, StringComparison.OrdinalIgnoreCase));
            if (known.Name is null)
            {
                yield return $"{section.Key}: unknown section (known: {string.Join(", ", Sections.Select(static s => s.Name))})";
            }
            else if (known.Type is not null)
            {
                foreach (var error in UnknownKeys(section, known.Type))
                {
                    yield return error;
                }
            }
        }

        foreach (var line in root.GetSection("Lines").GetChildren())
        {
            foreach (var key in line.GetChildren().Select(static c => c.Key).Where(static k => !LineKeys.Contains(k, StringComparer.OrdinalIgnoreCase)))
            {
                yield return $"{line.Path}:{key}: unknown setting (known: {string.Join(", ", LineKeys)})";
            }

            foreach (var camera in line.GetSection("Cameras").GetChildren())
            {
                foreach (var error in UnknownKeys(camera, typeof(CameraOptions)))
                {
                    yield return error;
                }
            }
        }
    }

    /// <summary>Keys under <paramref name="section"/> that <paramref name="type"/> has no settable property for, nested records included.</summary>
    private static IEnumerable<string> UnknownKeys(IConfigurationSection section, Type type)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.SetMethod is not null).ToArray();
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                yield return $"{child.Path}: unknown setting (known: {string.Join(", ", properties.Select(static p => p.Name))})";
                continue;
            }

            var nested = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (nested.IsClass && nested != typeof(string) && !nested.IsArray)
            {
                foreach (var error in UnknownKeys(child, nested))
                {
                    yield return error;
                }
            }
        }
    }

    /// <summary>Http:Token written in a configuration file: refused, the token comes from the environment or Http:TokenFile.</summary>
    private static IEnumerable<string> TokenInFiles(IConfigurationRoot root) =>
        root.Providers
            .Where(static p => p is not Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider and not Microsoft.Extensions.Configuration.Memory.MemoryConfigurationProvider)
            .Any(static p => p.TryGet("Http:Token", out var value) && !string.IsNullOrEmpty(value))
            ? ["Http:Token must not be written in a configuration file: give it in the environment (STREAMANOMALY__HTTP__TOKEN) or name a file that holds it (Http:TokenFile)"]
            : [];

    /// <summary>Keys that would hold a secret's value, and the settings to use instead.</summary>
    private static readonly (string Key, string Instead)[] InlineSecretKeys =
    [
        .. KafkaSecurityOptions.InlineSecretKeys,
        ($"{ClusterSecurityOptions.SectionName}:CertificatePassword", $"{ClusterSecurityOptions.SectionName}:CertificatePasswordFile or {ClusterSecurityOptions.SectionName}:CertificatePasswordEnvironmentVariable"),
        ($"{MqttOptions.SectionName}:Password", $"{MqttOptions.SectionName}:PasswordFile"),
        ($"{JournalOptions.SectionName}:Password", $"{JournalOptions.SectionName}:PasswordFile"),
    ];

    /// <summary>
    /// Secrets written as values (Kafka and cluster passwords), in a file or the environment
    /// alike: refused, naming the key that points at a file instead.
    /// </summary>
    private static IEnumerable<(string Key, string Error)> InlineSecrets(IConfiguration root) =>
        InlineSecretKeys
            .Where(k => root.GetSection(k.Key) is { } section && (section.Value is not null || section.GetChildren().Any()))
            .Select(static k => (k.Key, $"{k.Key} must not hold the secret itself (configuration files get checked in and printed): use {k.Instead}"));

    /// <summary>A binding failure as one line naming the key and the type it needs (the binder's inner error names neither).</summary>
    private static string Explain(Exception e, IConfiguration root)
    {
        var match = System.Text.RegularExpressions.Regex.Match(e.Message, "at '(?<key>[^']+)' to type '(?<type>[^']+)'");
        if (!match.Success)
        {
            return e.GetBaseException().Message;
        }

        var key = match.Groups["key"].Value;
        var type = match.Groups["type"].Value;
        var expected = type switch
        {
            "System.Int32" or "System.Int64" => "an integer",
            "System.Double" => "a number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration such as 00:00:05",
            _ when type.StartsWith("System.Nullable`1[[System.TimeSpan", StringComparison.Ordinal) => "a duration such as 00:00:05",
            _ => $"a {type[(type.LastIndexOf('.') + 1)..]}",
        };
        return $"{key} must be {expected}, got '{root[key]}'";
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
        var bundles = section.GetSection("Bundles");
        return new LineOptions(id, cameras) { Bundles = bundles.Exists() ? bundles.Get<string[]>() ?? [] : null };
    }
}

/// <summary>Configuration refused at start; the message names the key of every problem: one line for one problem, else a line each.</summary>
public sealed class InvalidConfigurationException(IReadOnlyList<string> errors)
    : Exception(errors.Count == 1
        ? $"invalid configuration: {errors[0]}"
        : "invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(static e => "  " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
