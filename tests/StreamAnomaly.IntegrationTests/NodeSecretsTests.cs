using StreamAnomaly.Cluster;
using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Secrets a node reads at start (cluster certificate, Kafka secret files): an unreadable one stops it in one line naming key and file.</summary>
public sealed class NodeSecretsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("node-secrets-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string File(string name, string content)
    {
        var path = Path.Combine(_root, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task A_cluster_certificate_that_is_not_pkcs12_stops_the_node_naming_key_and_file()
    {
        var certificate = File("cluster.pfx", "not a certificate");
        var settings = PlantFixture.Plant(lines: 1, perLine: 1) with { Cluster = new ClusterSecurityOptions { CertificateFile = certificate } };

        var error = await Assert.ThrowsAsync<InvalidConfigurationException>(() => PlantNode.StartAsync(settings, new NodeServices { Scorers = static () => [], Log = _ => { } }));
        Assert.StartsWith($"Cluster:CertificateFile: cannot read '{certificate}' as PKCS#12", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_kafka_password_file_stops_the_node_naming_key_and_file()
    {
        var password = File("kafka-password", "\n");
        var settings = PlantFixture.Plant(lines: 1, perLine: 1);
        settings = settings with
        {
            Kafka = settings.Kafka with
            {
                BootstrapServers = "127.0.0.1:1",
                Security = new KafkaSecurityOptions { Protocol = "sasl_plaintext", SaslMechanism = "SCRAM-SHA-256", Username = "plant", PasswordFile = password },
            },
        };

        var error = await Assert.ThrowsAsync<InvalidConfigurationException>(() => PlantNode.StartAsync(settings, new NodeServices { Scorers = static () => [], Log = _ => { } }));
        Assert.Equal($"Kafka:Security:PasswordFile: file '{password}' is empty", Assert.Single(error.Errors));
    }
}
