using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class EmbeddedBrokerTests
{
    [Fact]
    public async Task Another_process_lists_a_created_topic_with_its_partition_count()
    {
        var topic = "listed-" + Guid.NewGuid().ToString("N")[..8];
        KafkaTestKit.Broker.CreateTopic(topic, 7);

        var listing = await KafkaTestKit.Kcat(TimeSpan.FromSeconds(20), "-b", KafkaTestKit.Bootstrap, "-L", "-t", topic);

        Assert.Contains($"topic \"{topic}\" with 7 partitions:", listing, StringComparison.Ordinal);
        Assert.Contains("3 brokers:", listing, StringComparison.Ordinal);
    }

    [Fact]
    public void Bootstrap_servers_are_loopback_tcp_addresses()
    {
        var addresses = KafkaTestKit.Bootstrap.Split(',');

        Assert.Equal(3, addresses.Length);
        Assert.All(addresses, a => Assert.Matches(@"^127\.0\.0\.1:\d+$", a));
    }

    [Fact]
    public void Creating_an_existing_topic_keeps_it()
    {
        var topic = "twice-" + Guid.NewGuid().ToString("N")[..8];
        KafkaTestKit.Broker.CreateTopic(topic, 3);

        KafkaTestKit.Broker.CreateTopic(topic, 5);
    }

    [Fact]
    public async Task TopicProvisioner_without_a_broker_or_address_refuses()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => TopicProvisioner.EnsureTopicsAsync(new KafkaOptions(), null, CancellationToken.None));

        Assert.Contains("Kafka:BootstrapServers", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TopicProvisioner_over_the_network_leaves_existing_topics_alone()
    {
        // The mock cluster never answers CreateTopics: a node pointed at `streamanomaly broker`
        // starts only because nothing is created when every topic exists.
        var prefix = "existing-" + Guid.NewGuid().ToString("N")[..8];
        var options = new KafkaOptions { BootstrapServers = KafkaTestKit.Bootstrap, FramesTopic = prefix + ".frames", AlarmsTopic = prefix + ".alarms", DeadLetterTopic = prefix + ".dlq", Partitions = 4 };
        foreach (var (name, _) in TopicProvisioner.Topics(options))
        {
            KafkaTestKit.Broker.CreateTopic(name, options.Partitions);
        }

        await TopicProvisioner.EnsureTopicsAsync(options, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
    }
}
