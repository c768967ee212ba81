using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// Makes sure the frames, alarms and dead-letter topics exist before the clients start: with
/// <see cref="KafkaOptions.Partitions"/> partitions, <see cref="KafkaOptions.ReplicationFactor"/>
/// replicas and <c>max.message.bytes</c> = <see cref="KafkaOptions.MaxRecordBytes"/> (frames),
/// <see cref="KafkaOptions.MaxDeadLetterRecordBytes"/> (dead letters), 1 MiB (alarms). Existing
/// topics are left as they are (their partition count is not changed).
/// </summary>
public static class TopicProvisioner
{
    /// <summary>Topic name and its <c>max.message.bytes</c>, for the three topics.</summary>
    public static IReadOnlyList<(string Name, int MaxMessageBytes)> Topics(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return
        [
            (options.FramesTopic, options.MaxRecordBytes),
            (options.AlarmsTopic, 1024 * 1024),
            (options.DeadLetterTopic, options.MaxDeadLetterRecordBytes),
        ];
    }

    /// <summary>
    /// The host's one entry point: creates the topics in the embedded broker when one is given
    /// (the mock cluster does not serve CreateTopics), else through the AdminClient of
    /// <see cref="KafkaOptions.BootstrapServers"/>, ignoring topics that already exist.
    /// </summary>
    /// <exception cref="CreateTopicsException">A topic could not be created for another reason than that it exists.</exception>
    public static async Task EnsureTopicsAsync(KafkaOptions options, EmbeddedBroker? embedded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        if (embedded is not null)
        {
            foreach (var (name, _) in Topics(options))
            {
                embedded.CreateTopic(name, options.Partitions, options.ReplicationFactor);
            }

            return;
        }

        if (options.UsesEmbeddedBroker)
        {
            throw new ArgumentException("Kafka:BootstrapServers is empty, so an embedded broker must be given", nameof(embedded));
        }

        using var admin = new AdminClientBuilder(KafkaClientConfig.Admin(options)).Build();

        // Only ask for the missing topics: a node joining a plant whose topics exist makes no
        // CreateTopics call at all (the embedded broker of `streamanomaly broker`, a librdkafka mock
        // cluster, never answers one: the call timed out after 30 s and the node failed to start).
        var existing = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics
            .Where(static t => !t.Error.IsError)
            .Select(static t => t.Topic)
            .ToHashSet(StringComparer.Ordinal);
        var specifications = Topics(options).Where(t => !existing.Contains(t.Name)).Select(t => new TopicSpecification
        {
            Name = t.Name,
            NumPartitions = options.Partitions,
            ReplicationFactor = options.ReplicationFactor,
            Configs = new Dictionary<string, string> { ["max.message.bytes"] = t.MaxMessageBytes.ToString(CultureInfo.InvariantCulture) },
        }).ToList();
        if (specifications.Count == 0)
        {
            return;
        }

        try
        {
            await admin.CreateTopicsAsync(specifications, new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(30) })
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CreateTopicsException ex) when (ex.Results.All(static r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // Every topic exists now: created by someone else or by an earlier start.
        }
    }
}
