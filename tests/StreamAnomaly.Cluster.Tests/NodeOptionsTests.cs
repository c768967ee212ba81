namespace StreamAnomaly.Cluster.Tests;

public sealed class NodeOptionsTests
{
    [Fact]
    public void The_embedded_default_is_valid()
    {
        Assert.Empty(NodeOptions.SingleNode.Validate());
    }

    [Fact]
    public void Bad_settings_are_named_by_their_key()
    {
        var bad = new NodeOptions("plant 1", "", 70000, ["127.0.0.1", "host:x"], ["ingest", "cook"]);
        var errors = bad.Validate();
        Assert.Contains(errors, e => e.StartsWith("Node:ClusterName", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Node:Host", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Node:Port", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Node:SeedNodes:0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Node:SeedNodes:1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("unknown role 'cook'", StringComparison.Ordinal));
    }

    [Fact]
    public void Host_port_seeds_and_roles_are_laid_over_the_akka_defaults()
    {
        var config = new NodeOptions("plant", "10.0.0.5", 4053, ["10.0.0.4:4053"], ["worker"]).ToAkkaConfig();
        Assert.Equal("10.0.0.5", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://plant@10.0.0.4:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["worker"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.True(config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause") < TimeSpan.FromSeconds(45));
    }
}
