using System.Globalization;

namespace StreamAnomaly.Ingest.Mqtt;

/// <summary>
/// Where alarm events also go out on MQTT, the bus many plants already run (configuration section
/// <c>Mqtt</c>); off while <see cref="Server"/> is empty. Each event is published as
/// <see cref="Kafka.AlarmJson"/> on <c>{TopicPrefix}/{line}</c> with QoS 1 (at least once; the
/// MQTT 5 user property <c>idempotency-key</c> lets consumers drop repeats), so one alarm's raise,
/// updates and clear arrive in order. The password is read from a file, never a configuration value.
/// </summary>
public sealed record MqttOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Mqtt";

    /// <summary>host:port of the broker (e.g. <c>mqtt.plant.local:1883</c>); empty = no MQTT.</summary>
    public string? Server { get; init; }

    /// <summary>Topics are <c>{TopicPrefix}/{line}</c>; no wildcards.</summary>
    public string TopicPrefix { get; init; } = "streamanomaly/alarms";

    /// <summary>The client id; empty = <c>streamanomaly-</c> and a random suffix (two nodes with one id would disconnect each other).</summary>
    public string? ClientId { get; init; }

    /// <summary>User name, when the broker wants one.</summary>
    public string? Username { get; init; }

    /// <summary>File holding the password (needs <see cref="Username"/>).</summary>
    public string? PasswordFile { get; init; }

    /// <summary>TLS to the broker, its certificate checked against the system's trusted authorities.</summary>
    public bool UseTls { get; init; }

    /// <summary>True when alarms go out on MQTT.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Server);

    /// <summary>Every problem, each naming its key; empty when valid (or off).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enabled)
        {
            return errors;
        }

        if (!TryEndpoint(out _, out _))
        {
            errors.Add($"{SectionName}:Server must be host:port with a port in 1..65535, got '{Server}'");
        }

        if (string.IsNullOrWhiteSpace(TopicPrefix) || TopicPrefix.IndexOfAny(['+', '#', '\0']) >= 0 || TopicPrefix.EndsWith('/'))
        {
            errors.Add($"{SectionName}:TopicPrefix must be a topic without wildcards (+, #) or a trailing '/', got '{TopicPrefix}'");
        }

        if (!string.IsNullOrEmpty(PasswordFile))
        {
            if (string.IsNullOrEmpty(Username))
            {
                errors.Add($"{SectionName}:PasswordFile needs {SectionName}:Username");
            }

            if (!File.Exists(PasswordFile))
            {
                errors.Add($"{SectionName}:PasswordFile: file '{PasswordFile}' not found");
            }
        }

        return errors;
    }

    /// <summary>The broker's host and port; false when <see cref="Server"/> is not host:port.</summary>
    public bool TryEndpoint(out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        var colon = Server?.LastIndexOf(':') ?? -1;
        if (colon <= 0)
        {
            return false;
        }

        host = Server![..colon].Trim('[', ']');
        return int.TryParse(Server[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535 && host.Length > 0;
    }
}
