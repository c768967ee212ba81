using System.Reflection;
using Akka.Configuration;

namespace StreamAnomaly.Cluster;

/// <summary>
/// This node's place in the cluster (configuration section "Node").
/// </summary>
/// <param name="ClusterName">Actor system name; every node of a plant uses the same one.</param>
/// <param name="Host">Address other nodes reach this one at (also the bind address).</param>
/// <param name="Port">TCP port for cluster traffic; 0 picks a free one (single-node runs, tests).</param>
/// <param name="SeedNodes">Seed addresses ("host:port"); empty = this node founds a new cluster alone.</param>
/// <param name="Roles">Any of ingest, worker, aggregator.</param>
public sealed record NodeOptions(string ClusterName, string Host, int Port, string[] SeedNodes, string[] Roles)
{
    /// <summary>All three roles on 127.0.0.1, a free port, no seeds: the embedded default.</summary>
    public static NodeOptions SingleNode { get; } = new("streamanomaly", "127.0.0.1", 0, [], [PlantSharding.IngestRole, PlantSharding.WorkerRole, PlantSharding.AggregatorRole]);

    /// <summary>The roles a node may have.</summary>
    public static IReadOnlyList<string> KnownRoles { get; } = [PlantSharding.IngestRole, PlantSharding.WorkerRole, PlantSharding.AggregatorRole];

    public bool Has(string role) => Roles.Contains(role, StringComparer.Ordinal);

    /// <summary>Problems, each naming its configuration key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterName) || !ClusterName.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add($"Node:ClusterName must be letters, digits, '-' or '_', got '{ClusterName}'");
        }

        if (string.IsNullOrWhiteSpace(Host))
        {
            errors.Add("Node:Host must be set");
        }

        if (Port is < 0 or > 65535)
        {
            errors.Add($"Node:Port must be in [0, 65535], got {Port}");
        }

        if (Roles.Length == 0)
        {
            errors.Add($"Node:Roles must name at least one of {string.Join(", ", KnownRoles)}");
        }

        errors.AddRange(Roles.Where(r => !KnownRoles.Contains(r)).Select(r => $"Node:Roles has unknown role '{r}' (known: {string.Join(", ", KnownRoles)})"));
        for (var i = 0; i < SeedNodes.Length; i++)
        {
            var parts = SeedNodes[i].Split(':');
            if (parts.Length != 2 || parts[0].Length == 0 || !int.TryParse(parts[1], out var port) || port is < 1 or > 65535)
            {
                errors.Add($"Node:SeedNodes:{i} must be host:port, got '{SeedNodes[i]}'");
            }
        }

        return errors;
    }

    /// <summary>The Akka configuration of this node: config/akka.conf (embedded) with host, port, seeds and roles laid over it.</summary>
    public Config ToAkkaConfig(string? extraHocon = null)
    {
        var seeds = string.Join(", ", SeedNodes.Select(s => $"\"akka.tcp://{ClusterName}@{s}\""));
        var roles = string.Join(", ", Roles.Select(static r => $"\"{r}\""));
        var overlay = $$"""
            akka.remote.dot-netty.tcp.hostname = "{{Host}}"
            akka.remote.dot-netty.tcp.port = {{Port}}
            akka.cluster.roles = [{{roles}}]
            akka.cluster.seed-nodes = [{{seeds}}]
            """;
        var config = ConfigurationFactory.ParseString(overlay).WithFallback(BaseConfig);
        return extraHocon is null ? config : ConfigurationFactory.ParseString(extraHocon).WithFallback(config);
    }

    /// <summary>config/akka.conf as embedded in this assembly.</summary>
    public static Config BaseConfig { get; } = LoadBase();

    private static Config LoadBase()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("StreamAnomaly.akka.conf")
            ?? throw new InvalidOperationException("embedded akka.conf missing");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
