using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// Kafka settings of a node, bound from the configuration section <c>Kafka</c> (see
/// <see cref="SectionName"/>). Sizes are in bytes, times in milliseconds.
/// </summary>
/// <remarks>
/// Invariants checked by <see cref="Validate"/>: topic names and the group id are valid Kafka
/// names and the three topics differ; <see cref="Partitions"/> &gt;= 1;
/// <see cref="ReplicationFactor"/> &gt;= 1; <see cref="MaxMessageBytes"/> in 1 KiB..64 MiB;
/// <see cref="MaxInFlight"/> &gt;= 1; <see cref="HeartbeatIntervalMs"/> &lt; <see cref="SessionTimeoutMs"/>;
/// <see cref="CommitIntervalMs"/> &gt;= 10; <see cref="MaxImage"/> as <see cref="ImageLimits.Validate"/> says;
/// <see cref="Security"/> as <see cref="KafkaSecurityOptions.Validate"/> says, and plaintext with the embedded broker.
/// </remarks>
public sealed record KafkaOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Kafka";

    /// <summary>Room for key, headers and record framing on top of <see cref="MaxMessageBytes"/> (64 KiB).</summary>
    public const int RecordOverheadBytes = 64 * 1024;

    /// <summary>
    /// Comma-separated <c>host:port</c> list of a real cluster; null or empty starts the in-process
    /// <see cref="EmbeddedBroker"/> instead.
    /// </summary>
    public string? BootstrapServers { get; init; }

    /// <summary>Topic of encoded frames (key = camera id, value = JPEG, headers = <see cref="FrameHeaders"/>).</summary>
    public string FramesTopic { get; init; } = "frames";

    /// <summary>Topic of alarm lifecycle events (key = idempotency key, value = JSON).</summary>
    public string AlarmsTopic { get; init; } = "alarms";

    /// <summary>Topic where the frame feed puts messages it refused, with <c>reason</c> and <c>error</c> headers.</summary>
    public string DeadLetterTopic { get; init; } = "frames.dlq";

    /// <summary>Partitions of each topic created by <see cref="TopicProvisioner"/>; bounds the number of busy workers.</summary>
    public int Partitions { get; init; } = 16;

    /// <summary>Replication factor of created topics (the embedded broker has 3 brokers).</summary>
    public short ReplicationFactor { get; init; } = 1;

    /// <summary>Largest encoded frame (message value) in bytes; the topic limit adds <see cref="RecordOverheadBytes"/>.</summary>
    public int MaxMessageBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>
    /// Largest image a frame may declare (<c>Kafka:MaxImage:MaxSide</c>, default 8192 px per side,
    /// and <c>Kafka:MaxImage:MaxPixels</c>, default 40,000,000): the feed reads the JPEG's frame
    /// header and dead-letters a larger image before decoding it.
    /// </summary>
    public ImageLimits MaxImage { get; init; } = new(); // a fresh instance: the configuration binder fills it in place

    /// <summary>
    /// Encryption and authentication towards a real cluster (<c>Kafka:Security</c>): TLS, SASL
    /// (PLAIN, SCRAM, OAUTHBEARER over OIDC), secrets by file; plaintext by default.
    /// </summary>
    public KafkaSecurityOptions Security { get; init; } = new(); // a fresh instance: the configuration binder fills it in place

    /// <summary>Consumer group of the inference workers.</summary>
    public string ConsumerGroup { get; init; } = "workers";

    /// <summary>Most frames one worker feed hands out without acknowledgement before it pauses its partitions.</summary>
    public int MaxInFlight { get; init; } = 64;

    /// <summary>Consumer group session timeout (ms): a silent worker is dropped from the group after it.</summary>
    public int SessionTimeoutMs { get; init; } = 6000;

    /// <summary>Consumer heartbeat interval (ms), below <see cref="SessionTimeoutMs"/>.</summary>
    public int HeartbeatIntervalMs { get; init; } = 1000;

    /// <summary>How often (ms) the feed commits acknowledged positions and reports consumer lag.</summary>
    public int CommitIntervalMs { get; init; } = 500;

    /// <summary>
    /// Longest time (ms) a consumer fetch waits at the broker for data (librdkafka
    /// <c>fetch.wait.max.ms</c>, whose default is 500). A real broker answers as soon as data
    /// arrives, so this only sets how often idle partitions are polled; the embedded broker
    /// (librdkafka's mock) always holds an empty fetch for the whole wait, even when frames arrive
    /// meanwhile, so there it adds up to this much to a frame's latency. Default 20.
    /// </summary>
    public int FetchWaitMaxMs { get; init; } = 20;

    /// <summary>True when no real cluster is configured and the embedded broker is used.</summary>
    public bool UsesEmbeddedBroker => string.IsNullOrWhiteSpace(BootstrapServers);

    /// <summary>Record size limit of the frames topic and of the frame producer: <see cref="MaxMessageBytes"/> + <see cref="RecordOverheadBytes"/>.</summary>
    public int MaxRecordBytes => MaxMessageBytes + RecordOverheadBytes;

    /// <summary>
    /// Record size limit of the dead-letter topic and producer: twice <see cref="MaxRecordBytes"/>,
    /// so an oversize frame that the frames topic accepted still fits with its reason headers.
    /// </summary>
    public int MaxDeadLetterRecordBytes => 2 * MaxRecordBytes;

    /// <summary>Every problem with these options, each naming its key (e.g. "Kafka:Partitions must be &gt;= 1, got 0"); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void TopicName(string key, string? value)
        {
            if (!IsValidName(value, 249))
            {
                errors.Add($"{SectionName}:{key} must be 1..249 characters of letters, digits, '.', '_' and '-', got '{value}'");
            }
        }

        TopicName(nameof(FramesTopic), FramesTopic);
        TopicName(nameof(AlarmsTopic), AlarmsTopic);
        TopicName(nameof(DeadLetterTopic), DeadLetterTopic);
        if (new[] { FramesTopic, AlarmsTopic, DeadLetterTopic }.Distinct(StringComparer.Ordinal).Count() != 3)
        {
            errors.Add($"{SectionName}:{nameof(FramesTopic)}, {nameof(AlarmsTopic)} and {nameof(DeadLetterTopic)} must be three different topics, got '{FramesTopic}', '{AlarmsTopic}', '{DeadLetterTopic}'");
        }

        if (!IsValidName(ConsumerGroup, 255))
        {
            errors.Add($"{SectionName}:{nameof(ConsumerGroup)} must be 1..255 characters of letters, digits, '.', '_' and '-', got '{ConsumerGroup}'");
        }

        if (Partitions < 1)
        {
            errors.Add($"{SectionName}:{nameof(Partitions)} must be >= 1, got {Partitions}");
        }

        if (ReplicationFactor < 1)
        {
            errors.Add($"{SectionName}:{nameof(ReplicationFactor)} must be >= 1, got {ReplicationFactor}");
        }

        if (MaxMessageBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add($"{SectionName}:{nameof(MaxMessageBytes)} must be in 1024..67108864 bytes, got {MaxMessageBytes}");
        }

        if (MaxInFlight < 1)
        {
            errors.Add($"{SectionName}:{nameof(MaxInFlight)} must be >= 1, got {MaxInFlight}");
        }

        if (SessionTimeoutMs < 1)
        {
            errors.Add($"{SectionName}:{nameof(SessionTimeoutMs)} must be >= 1 ms, got {SessionTimeoutMs}");
        }

        if (HeartbeatIntervalMs < 1 || HeartbeatIntervalMs >= SessionTimeoutMs)
        {
            errors.Add($"{SectionName}:{nameof(HeartbeatIntervalMs)} must be >= 1 ms and below {SectionName}:{nameof(SessionTimeoutMs)} ({SessionTimeoutMs}), got {HeartbeatIntervalMs}");
        }

        if (FetchWaitMaxMs is < 1 or > 10_000)
        {
            errors.Add($"{SectionName}:{nameof(FetchWaitMaxMs)} must be in 1..10000 ms, got {FetchWaitMaxMs}");
        }

        if (CommitIntervalMs < 10)
        {
            errors.Add($"{SectionName}:{nameof(CommitIntervalMs)} must be >= 10 ms, got {CommitIntervalMs}");
        }

        errors.AddRange(MaxImage.Validate($"{SectionName}:{nameof(MaxImage)}"));
        errors.AddRange(Security.Validate());
        if (Security.IsEnabled && UsesEmbeddedBroker)
        {
            errors.Add($"{KafkaSecurityOptions.SectionName}:Protocol {Security.Protocol} needs a real cluster in {SectionName}:{nameof(BootstrapServers)} (the embedded broker speaks plaintext only)");
        }

        return errors;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem when the options are invalid.</summary>
    public KafkaOptions EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid Kafka options: " + string.Join("; ", errors));
        }

        return this;
    }

    private static bool IsValidName(string? name, int maxLength) =>
        !string.IsNullOrEmpty(name) && name.Length <= maxLength && name is not "." and not ".."
        && name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
