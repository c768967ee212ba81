using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// A Kafka-protocol broker inside this process: librdkafka's mock cluster (3 brokers by default)
/// listening on 127.0.0.1 TCP ports, so clients of this and other processes (kcat included) can
/// use <see cref="BootstrapServers"/>. It lives as long as the bare librdkafka handle that owns it, i.e.
/// until <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Limits of the mock, plan for them: it keeps only <see cref="RetentionBytesPerPartition"/> bytes
/// (and <see cref="RetentionBatchesPerPartition"/> record batches) of log per partition and drops
/// older messages silently (hosts log <see cref="RetentionWarning"/> at start; the aggregators
/// count the frames it drops in <c>streamanomaly_frames_lost_total</c>); AdminClient CreateTopics is not served (it times
/// out), hence <see cref="CreateTopic"/> through the native mock API, which takes no topic
/// configs (so no <c>max.message.bytes</c>: the clients' own limits apply); topics that do not
/// exist are auto-created with 4 partitions on a metadata request that allows it.
/// </remarks>
public sealed class EmbeddedBroker : IDisposable
{
    private readonly IntPtr _owner;
    private readonly IntPtr _cluster;
    private readonly Destroy _destroy;
    private readonly TopicCreate _topicCreate;
    private readonly PushRequestErrorsArray _pushRequestErrors;
    private readonly object _gate = new();
    private bool _disposed;

    /// <summary>
    /// Log bytes the mock keeps per partition: 5 MiB, fixed in librdkafka (rdkafka_mock.c sets
    /// every partition's <c>max_size</c> to 1024 * 1024 * 5 and offers no setting). About 700
    /// frames of 7 KB: a consumer further behind than that loses the oldest frames.
    /// </summary>
    public const long RetentionBytesPerPartition = 5 * 1024 * 1024;

    /// <summary>Record batches the mock keeps per partition (librdkafka's <c>max_cnt</c>), whatever their size.</summary>
    public const int RetentionBatchesPerPartition = 100_000;

    /// <summary>The one-line warning hosts log when they start an embedded broker.</summary>
    public static string RetentionWarning { get; } = string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"the embedded broker keeps only the newest {RetentionBytesPerPartition:N0} bytes ({RetentionBytesPerPartition / (1024 * 1024)} MiB) and {RetentionBatchesPerPartition:N0} record batches per partition and silently drops older messages: a consumer further behind loses frames (counted in streamanomaly_frames_lost_total); use a real Kafka cluster in production");

    /// <summary>Starts a mock cluster of <paramref name="brokers"/> brokers (1..16).</summary>
    public EmbeddedBroker(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(brokers, 16);
        Brokers = brokers;

        // The owner is a bare librdkafka producer made through the C API: Confluent.Kafka keeps the
        // native handle of its clients internal, and the mock API needs one.
        Library.Load();
        var library = LoadedLibrdkafka();
        var confNew = Export<ConfNew>(library, "rd_kafka_conf_new");
        var confSet = Export<ConfSet>(library, "rd_kafka_conf_set");
        var confDestroy = Export<ConfDestroy>(library, "rd_kafka_conf_destroy");
        var kafkaNew = Export<KafkaNew>(library, "rd_kafka_new");
        var handleMockCluster = Export<HandleMockCluster>(library, "rd_kafka_handle_mock_cluster");
        var bootstraps = Export<ClusterBootstraps>(library, "rd_kafka_mock_cluster_bootstraps");
        var rebalanceDelay = Export<GroupInitialRebalanceDelay>(library, "rd_kafka_mock_group_initial_rebalance_delay_ms");
        _destroy = Export<Destroy>(library, "rd_kafka_destroy");
        _topicCreate = Export<TopicCreate>(library, "rd_kafka_mock_topic_create");
        _pushRequestErrors = Export<PushRequestErrorsArray>(library, "rd_kafka_mock_push_request_errors_array");

        var error = new byte[512];
        var conf = confNew();
        if (confSet(conf, "test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture), error, error.Length) != 0)
        {
            confDestroy(conf);
            throw new InvalidOperationException("librdkafka refused test.mock.num.brokers: " + Text(error));
        }

        _owner = kafkaNew(0 /* RD_KAFKA_PRODUCER */, conf, error, error.Length);
        if (_owner == IntPtr.Zero)
        {
            confDestroy(conf); // rd_kafka_new takes the configuration only when it succeeds
            throw new InvalidOperationException("librdkafka could not create the mock cluster's owner: " + Text(error));
        }

        try
        {
            _cluster = handleMockCluster(_owner);
            if (_cluster == IntPtr.Zero)
            {
                throw new InvalidOperationException("librdkafka did not start a mock cluster (test.mock.num.brokers ignored?)");
            }

            BootstrapServers = Marshal.PtrToStringUTF8(bootstraps(_cluster))
                ?? throw new InvalidOperationException("librdkafka's mock cluster has no bootstrap address");

            // A consumer group waits 3 s by default for more members before its first assignment.
            rebalanceDelay(_cluster, 0);
        }
        catch
        {
            _destroy(_owner);
            throw;
        }
    }

    /// <summary>Number of brokers in the cluster (the highest usable replication factor).</summary>
    public int Brokers { get; }

    /// <summary>Comma-separated <c>127.0.0.1:port</c> addresses of the brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>
    /// Creates a topic with <paramref name="partitions"/> partitions; succeeds without change when
    /// the topic exists (the mock keeps its partition count). Replication is capped at <see cref="Brokers"/>.
    /// </summary>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var error = (ErrorCode)_topicCreate(_cluster, name, partitions, Math.Min(replicationFactor, Brokers));
            if (error is not ErrorCode.NoError and not ErrorCode.TopicAlreadyExists)
            {
                throw new KafkaException(new Error(error, $"mock cluster could not create topic '{name}' with {partitions} partitions: {error}"));
            }
        }
    }

    /// <summary>
    /// Fault injection for tests: the next requests of Kafka API <paramref name="apiKey"/> (e.g. 8 =
    /// OffsetCommit, 0 = Produce), whichever broker gets them, fail with these errors in order.
    /// </summary>
    public void FailNextRequests(short apiKey, params ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _pushRequestErrors(_cluster, apiKey, (nuint)errors.Length, errors.Select(static e => (int)e).ToArray());
        }
    }

    /// <summary>Stops the brokers; clients connected to them see the connection drop.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _destroy(_owner);
    }

    // Confluent.Kafka picks one of several bundled librdkafka builds at run time (on Debian 12 the
    // centos8 one, as the main build needs libsasl2.so.3): find the file that is actually mapped,
    // so that the mock API is called in the same library instance that owns the handle.
    private static IntPtr LoadedLibrdkafka()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the embedded broker finds the loaded librdkafka through /proc/self/maps (Linux only)");
        }

        var path = File.ReadLines("/proc/self/maps")
            .Select(static line => line.IndexOf('/', StringComparison.Ordinal) is var i and >= 0 ? line[i..].Trim() : null)
            .FirstOrDefault(static p => p is not null && Path.GetFileName(p).Contains("librdkafka", StringComparison.Ordinal) && p.Contains(".so", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("librdkafka is not mapped in this process although a client was created");
        return NativeLibrary.Load(path);
    }

    private static T Export<T>(IntPtr library, string name)
        where T : Delegate =>
        NativeLibrary.TryGetExport(library, name, out var address)
            ? Marshal.GetDelegateForFunctionPointer<T>(address)
            : throw new InvalidOperationException($"the loaded librdkafka does not export {name} (built without the mock cluster?)");

    private static string Text(byte[] nulTerminated) =>
        System.Text.Encoding.UTF8.GetString(nulTerminated, 0, Math.Max(0, Array.IndexOf(nulTerminated, (byte)0)));

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr ConfNew();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int ConfSet(IntPtr conf, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, byte[] errstr, nint errstrSize);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ConfDestroy(IntPtr conf);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr KafkaNew(int type, IntPtr conf, byte[] errstr, nint errstrSize);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void Destroy(IntPtr rk);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr HandleMockCluster(IntPtr rk);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr ClusterBootstraps(IntPtr mcluster);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void GroupInitialRebalanceDelay(IntPtr mcluster, int delayMs);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void PushRequestErrorsArray(IntPtr mcluster, short apiKey, nuint count, int[] errors);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int TopicCreate(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitionCount, int replicationFactor);
}
