using StreamAnomaly.Host.Settings;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Loading a node's settings the way <c>streamanomaly run</c> does.</summary>
public sealed class PlantSettingsTests
{
    [Fact]
    public void The_embedded_defaults_load_with_no_seed_nodes()
    {
        var settings = PlantSettings.Load();
        Assert.Empty(settings.Node.SeedNodes);
        Assert.Equal(["ingest", "worker", "aggregator"], settings.Node.Roles);
    }

    [Fact]
    public void Seed_nodes_and_port_come_from_overrides_and_removed_role_entries_are_left_out()
    {
        var settings = PlantSettings.Load(overrides: new Dictionary<string, string?>
        {
            ["Node:Port"] = "4053",
            ["Node:SeedNodes:0"] = "127.0.0.1:4000",
            ["Node:Roles:0"] = "worker",
            ["Node:Roles:1"] = null,
            ["Node:Roles:2"] = null,
        });
        Assert.Equal(4053, settings.Node.Port);
        Assert.Equal(["127.0.0.1:4000"], settings.Node.SeedNodes);
        Assert.Equal(["worker"], settings.Node.Roles);
    }

    [Fact]
    public void An_unknown_node_setting_is_refused()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(overrides: new Dictionary<string, string?> { ["Node:Seeds:0"] = "127.0.0.1:4000" }));
        Assert.Contains("Seeds", error.Message);
    }
}
