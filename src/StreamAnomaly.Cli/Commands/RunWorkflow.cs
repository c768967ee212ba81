using StreamAnomaly.Host;
using StreamAnomaly.Host.Settings;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Cli.Commands;

/// <summary>The long-running commands: a node (<c>run</c>) and a stand-alone embedded broker (<c>broker</c>).</summary>
internal static class RunWorkflow
{
    /// <summary>Runs a node until cancelled; <paramref name="roles"/> overrides Node:Roles.</summary>
    public static async Task RunAsync(string? configFile, string? roles, TimeProvider time, CancellationToken cancellationToken)
    {
        var settings = PlantSettings.Load(configFile);
        if (roles is not null)
        {
            settings = settings with { Node = settings.Node with { Roles = roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) } };
            settings.EnsureValid();
        }

        await using var node = await PlantNode.StartAsync(settings, new NodeServices { Time = time }, cancellationToken);
        Console.WriteLine($"node {node.ClusterAddress} up: roles {string.Join(",", settings.Node.Roles)}, status {node.StatusAddress}, Kafka {node.BootstrapServers}");
        await WaitUntilStopped(cancellationToken);
        Console.WriteLine("leaving the cluster");
    }

    /// <summary>Hosts an embedded broker with the plant's topics until cancelled.</summary>
    public static async Task BrokerAsync(int partitions, CancellationToken cancellationToken)
    {
        using var broker = new EmbeddedBroker();
        var options = new KafkaOptions { Partitions = partitions };
        await TopicProvisioner.EnsureTopicsAsync(options, broker, cancellationToken);
        Console.WriteLine($"bootstrap servers: {broker.BootstrapServers}");
        Console.Error.WriteLine(EmbeddedBroker.RetentionWarning);
        Console.Out.Flush();
        await WaitUntilStopped(cancellationToken);
    }

    /// <summary>Waits for Ctrl+C (the token) or SIGTERM.</summary>
    private static async Task WaitUntilStopped(CancellationToken cancellationToken)
    {
        var stopped = new TaskCompletionSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stopped.TrySetResult();
        });
        using var registration = cancellationToken.Register(() => stopped.TrySetResult());
        await stopped.Task;
    }
}
