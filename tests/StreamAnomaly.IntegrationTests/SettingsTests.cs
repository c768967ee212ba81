using StreamAnomaly.Cli;
using StreamAnomaly.Host.Settings;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Configuration: layered sources, validation naming each key, refusal at start.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class SettingsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("settings-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Bundle(string name)
    {
        var path = Path.Combine(_root, $"{name}.sabundle");
        System.IO.File.WriteAllBytes(path, []);
        return path;
    }

    private string File(string json)
    {
        var path = Path.Combine(_root, $"{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void The_embedded_defaults_are_a_valid_single_node_with_the_embedded_broker()
    {
        var settings = PlantSettings.Load();
        Assert.Equal(["ingest", "worker", "aggregator"], settings.Node.Roles);
        Assert.True(settings.Kafka.UsesEmbeddedBroker);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Aggregation.JoinTimeout);
        Assert.Equal("127.0.0.1:9464", settings.Http.Listen);
        Assert.Empty(settings.Node.SeedNodes);
    }

    [Fact]
    public void A_file_overrides_the_defaults_and_keeps_the_rest()
    {
        var settings = PlantSettings.Load(File("""
            { "Node": { "Port": 4053, "SeedNodes": [ "10.0.0.1:4053" ] },
              "Aggregation": { "RaiseHits": 4 },
              "Lines": [ { "Id": "press", "Cameras": [ { "Id": "press-1", "Source": "synthetic:7", "Fps": 10, "Width": 96, "Height": 96 } ] } ] }
            """));
        Assert.Equal(4053, settings.Node.Port);
        Assert.Equal(["10.0.0.1:4053"], settings.Node.SeedNodes);
        Assert.Equal(4, settings.Aggregation.RaiseHits);
        Assert.Equal(5, settings.Aggregation.RaiseWindow);
        Assert.Equal("press", settings.CameraLines["press-1"]);
        Assert.Equal(10, settings.Lines[0].Cameras[0].Fps);
    }

    [Fact]
    public void Overrides_win_over_the_file()
    {
        var settings = PlantSettings.Load(File("""{ "Kafka": { "Partitions": 4 } }"""), new Dictionary<string, string?> { ["Kafka:Partitions"] = "8" });
        Assert.Equal(8, settings.Kafka.Partitions);
    }

    [Fact]
    public void Every_bad_value_is_reported_with_its_key()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""
            { "Node": { "Roles": [ "cook" ] },
              "Kafka": { "Partitions": 0 },
              "Aggregation": { "RaiseHits": 9 },
              "Worker": { "Device": "tpu", "Bundles": [ "/nowhere/model.sabundle" ] },
              "Http": { "Listen": "everywhere" },
              "Lines": [ { "Id": "a", "Cameras": [ { "Id": "c1", "Source": "synthetic:1", "Fps": 0 }, { "Id": "c1", "Source": "nothing" } ] } ] }
            """)));
        string[] keys = ["Node:Roles", "Kafka:Partitions", "Aggregation:RaiseHits", "Worker:Device", "Worker:Bundles:0", "Http:Listen", "Lines:0:Cameras:0:Fps", "Lines:0:Cameras:1:Id", "Lines:0:Cameras:1:Source"];
        Assert.All(keys, k => Assert.Contains(error.Errors, e => e.StartsWith(k, StringComparison.Ordinal)));
    }

    [Fact]
    public void Each_camera_is_scored_by_its_own_bundles_else_its_lines_else_the_plants_default()
    {
        var (plant, press, robot) = (Bundle("plant"), Bundle("press"), Bundle("robot-1"));
        var settings = PlantSettings.Load(File($$"""
            { "Worker": { "Bundles": [ "{{plant}}" ] },
              "Lines": [
                { "Id": "press", "Bundles": [ "{{press}}" ], "Cameras": [ { "Id": "press-1", "Source": "synthetic:1" } ] },
                { "Id": "robot", "Cameras": [ { "Id": "robot-1", "Source": "synthetic:2", "Bundles": [ "{{robot}}", "{{plant}}" ] }, { "Id": "robot-2", "Source": "synthetic:3" } ] } ] }
            """));

        Assert.Equal([press], settings.CameraBundles["press-1"]);
        Assert.Equal([robot, plant], settings.CameraBundles["robot-1"]);
        Assert.Equal([plant], settings.CameraBundles["robot-2"]);
        Assert.Empty(settings.UnroutedCameras());
    }

    [Fact]
    public void A_missing_bundle_of_a_line_or_a_camera_is_refused_naming_its_key()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""
            { "Lines": [ { "Id": "a", "Bundles": [ "/nowhere/a.sabundle" ], "Cameras": [ { "Id": "c1", "Source": "synthetic:1", "Bundles": [ "/nowhere/c1.sabundle" ] } ] } ] }
            """)));
        Assert.Equal(
            ["Lines:0:Bundles:0: bundle file '/nowhere/a.sabundle' not found", "Lines:0:Cameras:0:Bundles:0: bundle file '/nowhere/c1.sabundle' not found"],
            error.Errors);
    }

    [Fact]
    public void A_camera_that_no_bundle_scores_is_named_with_the_keys_that_would_route_it()
    {
        var settings = PlantSettings.Load(File("""
            { "Lines": [ { "Id": "a", "Cameras": [ { "Id": "c1", "Source": "synthetic:1" } ] } ] }
            """));
        var problem = Assert.Single(settings.UnroutedCameras());
        Assert.StartsWith("Lines:0:Cameras:0: camera 'c1' has no model bundle: name one in Lines:0:Cameras:0:Bundles, Lines:0:Bundles or Worker:Bundles", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_of_a_line_is_refused_naming_the_known_ones()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""
            { "Lines": [ { "Id": "a", "Models": [ "x" ], "Cameras": [ { "Id": "c1", "Source": "synthetic:1" } ] } ] }
            """)));
        Assert.Equal("Lines:0:Models: unknown setting (known: Id, Bundles, Cameras)", Assert.Single(error.Errors));
    }

    [Fact]
    public void Mqtt_is_off_by_default_and_a_bad_server_or_topic_is_refused_naming_its_key()
    {
        Assert.False(PlantSettings.Load().Mqtt.Enabled);
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Mqtt": { "Server": "broker-without-port", "TopicPrefix": "alarms/#" } }""")));
        Assert.Equal(
            ["Mqtt:Server must be host:port with a port in 1..65535, got 'broker-without-port'", "Mqtt:TopicPrefix must be a topic without wildcards (+, #) or a trailing '/', got 'alarms/#'"],
            error.Errors);
    }

    [Fact]
    public void An_mqtt_password_written_in_the_configuration_is_refused_naming_the_file_setting()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Mqtt": { "Server": "mqtt:1883", "Username": "u", "Password": "hunter2" } }""")));
        Assert.Contains("Mqtt:Password must not hold the secret itself", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void The_journal_is_a_sqlite_file_by_default_for_a_configured_node()
    {
        var journal = PlantSettings.Load().Journal;
        Assert.Equal(("sqlite", "state/journal.db"), (journal.Provider, journal.Path));
    }

    [Fact]
    public void An_unknown_journal_provider_is_refused_naming_its_key_and_the_known_ones()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Journal": { "Provider": "mongodb" } }""")));
        Assert.Equal("Journal:Provider must be one of sqlite, postgresql, memory, got 'mongodb'", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_postgresql_journal_without_a_connection_string_is_refused()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Journal": { "Provider": "postgresql" } }""")));
        Assert.StartsWith("Journal:ConnectionString must be set for PostgreSQL", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_inside_the_journal_connection_string_is_refused_naming_the_file_setting()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Journal": { "Provider": "postgresql", "ConnectionString": "Host=db;Username=u;Password=hunter2" } }""")));
        Assert.Equal("Journal:ConnectionString holds a password: put it in the file named by Journal:PasswordFile", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_journal_password_written_in_the_configuration_is_refused_naming_the_file_setting()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Journal": { "Provider": "postgresql", "ConnectionString": "Host=db;Username=u", "Password": "hunter2" } }""")));
        Assert.Contains("Journal:Password must not hold the secret itself", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_journal_password_file_is_refused_naming_its_key()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Journal": { "Provider": "postgresql", "ConnectionString": "Host=db;Username=u", "PasswordFile": "/nonexistent/pg-password" } }""")));
        Assert.Equal("Journal:PasswordFile: file '/nonexistent/pg-password' not found", Assert.Single(error.Errors));
    }

    [Fact]
    public void The_image_limit_binds_from_the_kafka_section_and_is_validated_by_key()
    {
        var settings = PlantSettings.Load(overrides: new Dictionary<string, string?> { ["Kafka:MaxImage:MaxSide"] = "4096" });
        Assert.Equal((4096, 40_000_000L), (settings.Kafka.MaxImage.MaxSide, settings.Kafka.MaxImage.MaxPixels));

        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(overrides: new Dictionary<string, string?> { ["Kafka:MaxImage:MaxPixels"] = "0" }));
        Assert.Contains("Kafka:MaxImage:MaxPixels must be in 256..500000000 pixels, got 0", error.Errors);
    }

    [Fact]
    public void An_unknown_key_is_refused_by_name()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Aggregation": { "RaiseHitz": 3 } }""")));
        Assert.Contains("RaiseHitz", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_is_refused_naming_its_full_path_and_the_known_keys()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Http": { "Listne": "0.0.0.0:9464" } }""")));
        var problem = Assert.Single(error.Errors);
        Assert.StartsWith("Http:Listne: unknown setting (known: Listen, AnomalyInjection, Token, TokenFile, AllowedHosts, MaxEventStreams, MaxAlarmEvidence, MaxAlarmEvidenceBytes)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_of_a_camera_is_refused_naming_its_full_path()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""
            { "Lines": [ { "Id": "a", "Cameras": [ { "Id": "c1", "Source": "synthetic:1", "Roi": { "X": 0, "Y": 0, "Width": 8, "Heigth": 8 } } ] } ] }
            """)));
        Assert.StartsWith("Lines:0:Cameras:0:Roi:Heigth: unknown setting", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_section_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Workers": { "Device": "cuda" } }""")));
        Assert.Equal("Workers: unknown section (known: Node, Cluster, Kafka, Http, Worker, Aggregation, Mqtt, Journal, Lines)", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_refused_naming_the_key_and_the_expected_type()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Kafka": { "Partitions": "many" } }""")));
        Assert.Equal("Kafka:Partitions must be an integer, got 'many'", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_duration_of_the_wrong_type_is_refused_naming_the_key()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Worker": { "BundlePollInterval": "soon" } }""")));
        Assert.Equal("Worker:BundlePollInterval must be a duration such as 00:00:05, got 'soon'", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_token_written_in_a_configuration_file_is_refused()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Http": { "Listen": "0.0.0.0:9464", "Token": "0123456789abcdef0123" } }""")));
        Assert.StartsWith("Http:Token must not be written in a configuration file", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Kafka_security_binds_from_a_file_with_its_secrets_named_by_file()
    {
        var password = File("s3cret");
        var settings = PlantSettings.Load(File($$"""
            { "Kafka": { "BootstrapServers": "kafka-0:9093", "Security": { "Protocol": "sasl_ssl", "SaslMechanism": "SCRAM-SHA-512", "Username": "plant", "PasswordFile": "{{password}}" } } }
            """));
        var security = settings.Kafka.Security;
        Assert.Equal(("sasl_ssl", "SCRAM-SHA-512", "plant", password), (security.Protocol, security.SaslMechanism, security.Username, security.PasswordFile));
    }

    [Theory]
    [InlineData("Password", "Kafka:Security:PasswordFile or Kafka:Security:PasswordEnvironmentVariable")]
    [InlineData("KeyPassword", "Kafka:Security:KeyPasswordFile")]
    [InlineData("OAuthClientSecret", "Kafka:Security:OAuthClientSecretFile")]
    public void A_kafka_secret_written_in_configuration_is_refused_naming_the_key_to_use(string key, string instead)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File($$"""{ "Kafka": { "Security": { "{{key}}": "hunter2" } } }""")));
        Assert.Equal($"Kafka:Security:{key} must not hold the secret itself (configuration files get checked in and printed): use {instead}", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_kafka_sasl_mechanism_without_a_sasl_protocol_stops_the_node_naming_the_key()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(overrides: new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = "kafka-0:9093", ["Kafka:Security:Protocol"] = "ssl", ["Kafka:Security:SaslMechanism"] = "PLAIN",
        }));
        Assert.Contains("Kafka:Security:SaslMechanism PLAIN needs Kafka:Security:Protocol sasl_plaintext or sasl_ssl, got 'ssl'", error.Errors);
    }

    [Fact]
    public void A_node_reachable_from_other_machines_without_cluster_tls_stops_naming_the_keys()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(overrides: new Dictionary<string, string?> { ["Node:Host"] = "10.0.0.5" }));
        Assert.Equal("Node:Host 10.0.0.5 is reachable from other machines, so cluster traffic needs TLS: set Cluster:CertificateFile (a PKCS#12 file with its key) or Cluster:AllowPlaintext=true", Assert.Single(error.Errors));
    }

    [Fact]
    public void Cluster_plaintext_beyond_loopback_is_taken_when_explicitly_allowed()
    {
        var settings = PlantSettings.Load(overrides: new Dictionary<string, string?> { ["Node:Host"] = "10.0.0.5", ["Cluster:AllowPlaintext"] = "true" });
        Assert.True(settings.Cluster.AllowPlaintext);
    }

    [Fact]
    public void A_cluster_certificate_password_written_in_configuration_is_refused_naming_the_key_to_use()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("""{ "Cluster": { "CertificatePassword": "hunter2" } }""")));
        Assert.Equal("Cluster:CertificatePassword must not hold the secret itself (configuration files get checked in and printed): use Cluster:CertificatePasswordFile or Cluster:CertificatePasswordEnvironmentVariable", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_token_from_the_environment_is_taken()
    {
        var settings = PlantSettings.Load(overrides: new Dictionary<string, string?> { ["Http:Listen"] = "0.0.0.0:9464", ["Http:Token"] = "0123456789abcdef0123" });
        Assert.True(settings.Http.HasToken);
        Assert.DoesNotContain("0123456789abcdef0123", settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_refuses_to_listen_beyond_loopback_without_a_token_in_one_line()
    {
        var (code, error) = await ConsoleCapture.Run(["run", "--config", File("""{ "Http": { "Listen": "0.0.0.0:9464" } }""")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal(
            "error: invalid configuration: Http:Listen 0.0.0.0:9464 is reachable from other machines, so the dashboard and commands need a token: set Http:TokenFile (a file holding it) or STREAMANOMALY__HTTP__TOKEN",
            error.Trim());
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

    [Fact]
    public void A_missing_or_malformed_file_is_refused()
    {
        Assert.Contains("not found", Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(Path.Combine(_root, "none.json"))).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidConfigurationException>(() => PlantSettings.Load(File("{ \"Node\": ")));
    }

    [Fact]
    public async Task Run_refuses_bad_configuration_at_start_with_exit_code_2_naming_the_key()
    {
        var (code, error) = await ConsoleCapture.Run(["run", "--config", File("""{ "Kafka": { "MaxInFlight": 0 } }""")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("Kafka:MaxInFlight", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_refuses_a_worker_without_a_model_bundle()
    {
        var (code, error) = await ConsoleCapture.Run(["run", "--roles", "worker", "--config", File("""{ "Http": { "Listen": "127.0.0.1:0" } }""")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("Worker:Bundles", error, StringComparison.Ordinal);
    }
}
