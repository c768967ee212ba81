using Confluent.Kafka;

namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// How a node authenticates to a real Kafka cluster and encrypts the connection, bound from the
/// configuration section <c>Kafka:Security</c> and applied alike to every producer, consumer and
/// admin client (<see cref="ApplyTo"/>). Secrets are never values of this record: a password, a
/// key password and an OAuth client secret are read from files (a mounted Kubernetes or compose
/// secret) or, for the SASL password, from a named environment variable, when a client is built.
/// </summary>
/// <remarks>
/// Invariants checked by <see cref="Validate"/>: <see cref="Protocol"/> is one of
/// <see cref="Protocols"/>; a SASL protocol has a <see cref="SaslMechanism"/> of
/// <see cref="Mechanisms"/> and a mechanism needs a SASL protocol; PLAIN and SCRAM need
/// <see cref="Username"/> and exactly one of <see cref="PasswordFile"/> and
/// <see cref="PasswordEnvironmentVariable"/>; OAUTHBEARER needs an https
/// <see cref="OAuthTokenEndpoint"/>, <see cref="OAuthClientId"/> and <see cref="OAuthClientSecretFile"/>;
/// TLS files need a TLS protocol (ssl, sasl_ssl), <see cref="CertificateFile"/> and
/// <see cref="KeyFile"/> come together, <see cref="KeyPasswordFile"/> needs <see cref="KeyFile"/>;
/// every named file exists and every named environment variable is set.
/// </remarks>
public sealed record KafkaSecurityOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = KafkaOptions.SectionName + ":Security";

    /// <summary>Accepted <see cref="Protocol"/> values (librdkafka <c>security.protocol</c>).</summary>
    public static readonly IReadOnlyList<string> Protocols = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];

    /// <summary>Accepted <see cref="SaslMechanism"/> values (librdkafka <c>sasl.mechanism</c>).</summary>
    public static readonly IReadOnlyList<string> Mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

    /// <summary>
    /// Keys that would hold a secret's value in configuration; <c>PlantSettings</c> refuses them
    /// wherever they are written, naming the key to use instead.
    /// </summary>
    public static readonly IReadOnlyList<(string Key, string Instead)> InlineSecretKeys =
    [
        ($"{SectionName}:Password", $"{SectionName}:PasswordFile or {SectionName}:PasswordEnvironmentVariable"),
        ($"{SectionName}:KeyPassword", $"{SectionName}:KeyPasswordFile"),
        ($"{SectionName}:OAuthClientSecret", $"{SectionName}:OAuthClientSecretFile"),
    ];

    /// <summary>Largest secret file read (bytes): a secret is one line.</summary>
    public const int MaxSecretFileBytes = 4096;

    /// <summary>plaintext (default), ssl, sasl_plaintext or sasl_ssl.</summary>
    public string Protocol { get; init; } = "plaintext";

    /// <summary>PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER; needs a SASL <see cref="Protocol"/>.</summary>
    public string? SaslMechanism { get; init; }

    /// <summary>SASL user name (PLAIN and SCRAM).</summary>
    public string? Username { get; init; }

    /// <summary>File holding the SASL password (PLAIN and SCRAM).</summary>
    public string? PasswordFile { get; init; }

    /// <summary>Name of the environment variable holding the SASL password (PLAIN and SCRAM), e.g. <c>KAFKA_PASSWORD</c>.</summary>
    public string? PasswordEnvironmentVariable { get; init; }

    /// <summary>PEM file of the certificate authorities that sign the brokers' certificates (default: the system's).</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM file of this client's certificate, for brokers that require client certificates (with <see cref="KeyFile"/>).</summary>
    public string? CertificateFile { get; init; }

    /// <summary>PEM file of this client's private key (with <see cref="CertificateFile"/>).</summary>
    public string? KeyFile { get; init; }

    /// <summary>File holding the password of an encrypted <see cref="KeyFile"/>.</summary>
    public string? KeyPasswordFile { get; init; }

    /// <summary>OAUTHBEARER: the identity provider's token endpoint (https), for the client-credentials grant (librdkafka <c>sasl.oauthbearer.method=oidc</c>).</summary>
    public string? OAuthTokenEndpoint { get; init; }

    /// <summary>OAUTHBEARER: the client id at the identity provider.</summary>
    public string? OAuthClientId { get; init; }

    /// <summary>OAUTHBEARER: file holding the client secret.</summary>
    public string? OAuthClientSecretFile { get; init; }

    /// <summary>OAUTHBEARER: optional scope requested with the token.</summary>
    public string? OAuthScope { get; init; }

    /// <summary>True unless the protocol is plaintext: the embedded broker cannot serve it.</summary>
    public bool IsEnabled => !string.Equals(Protocol, "plaintext", StringComparison.OrdinalIgnoreCase);

    private bool UsesSasl => Protocol.StartsWith("sasl_", StringComparison.OrdinalIgnoreCase);

    private bool UsesTls => Protocol.Equals("ssl", StringComparison.OrdinalIgnoreCase) || Protocol.Equals("sasl_ssl", StringComparison.OrdinalIgnoreCase);

    private bool IsOAuth => string.Equals(SaslMechanism, "OAUTHBEARER", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every problem, each naming its key (e.g. "Kafka:Security:PasswordFile: file '/x' not found"); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void File(string key, string? path)
        {
            if (!string.IsNullOrEmpty(path) && !System.IO.File.Exists(path))
            {
                errors.Add($"{SectionName}:{key}: file '{path}' not found");
            }
        }

        void Required(string key, string? value, string why)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{SectionName}:{key} must be set {why}");
            }
        }

        void NotWith(string key, string? value, string why)
        {
            if (!string.IsNullOrEmpty(value))
            {
                errors.Add($"{SectionName}:{key} applies {why}");
            }
        }

        if (!Protocols.Contains(Protocol, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{SectionName}:Protocol must be one of {string.Join(", ", Protocols)}, got '{Protocol}'");
            return errors;
        }

        if (UsesSasl && string.IsNullOrEmpty(SaslMechanism))
        {
            errors.Add($"{SectionName}:SaslMechanism must be set with Protocol {Protocol} (one of {string.Join(", ", Mechanisms)})");
        }
        else if (!string.IsNullOrEmpty(SaslMechanism) && !UsesSasl)
        {
            errors.Add($"{SectionName}:SaslMechanism {SaslMechanism} needs {SectionName}:Protocol sasl_plaintext or sasl_ssl, got '{Protocol}'");
        }
        else if (!string.IsNullOrEmpty(SaslMechanism) && !Mechanisms.Contains(SaslMechanism, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{SectionName}:SaslMechanism must be one of {string.Join(", ", Mechanisms)}, got '{SaslMechanism}'");
        }

        if (UsesSasl && !Mechanisms.Contains(SaslMechanism ?? string.Empty, StringComparer.OrdinalIgnoreCase))
        {
            return errors; // which credentials apply depends on the mechanism
        }

        var passwordSources = new[] { PasswordFile, PasswordEnvironmentVariable }.Count(static s => !string.IsNullOrEmpty(s));
        if (UsesSasl && !IsOAuth)
        {
            Required(nameof(Username), Username, $"with SaslMechanism {SaslMechanism}");
            if (passwordSources != 1)
            {
                errors.Add($"{SectionName}: SaslMechanism {SaslMechanism} needs exactly one of PasswordFile and PasswordEnvironmentVariable, got {passwordSources}");
            }
        }
        else
        {
            var why = "only to SaslMechanism PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512";
            NotWith(nameof(Username), Username, why);
            NotWith(nameof(PasswordFile), PasswordFile, why);
            NotWith(nameof(PasswordEnvironmentVariable), PasswordEnvironmentVariable, why);
        }

        if (IsOAuth && UsesSasl)
        {
            Required(nameof(OAuthTokenEndpoint), OAuthTokenEndpoint, "with SaslMechanism OAUTHBEARER");
            Required(nameof(OAuthClientId), OAuthClientId, "with SaslMechanism OAUTHBEARER");
            Required(nameof(OAuthClientSecretFile), OAuthClientSecretFile, "with SaslMechanism OAUTHBEARER");
            if (!string.IsNullOrEmpty(OAuthTokenEndpoint)
                && !(Uri.TryCreate(OAuthTokenEndpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme == Uri.UriSchemeHttps))
            {
                errors.Add($"{SectionName}:OAuthTokenEndpoint must be an https URL (the client secret travels to it), got '{OAuthTokenEndpoint}'");
            }
        }
        else
        {
            var why = "only to SaslMechanism OAUTHBEARER";
            NotWith(nameof(OAuthTokenEndpoint), OAuthTokenEndpoint, why);
            NotWith(nameof(OAuthClientId), OAuthClientId, why);
            NotWith(nameof(OAuthClientSecretFile), OAuthClientSecretFile, why);
            NotWith(nameof(OAuthScope), OAuthScope, why);
        }

        if (!UsesTls)
        {
            var why = $"only to Protocol ssl or sasl_ssl, got '{Protocol}'";
            NotWith(nameof(CaFile), CaFile, why);
            NotWith(nameof(CertificateFile), CertificateFile, why);
            NotWith(nameof(KeyFile), KeyFile, why);
            NotWith(nameof(KeyPasswordFile), KeyPasswordFile, why);
        }
        else if (string.IsNullOrEmpty(CertificateFile) != string.IsNullOrEmpty(KeyFile))
        {
            errors.Add($"{SectionName}:CertificateFile and {SectionName}:KeyFile must be set together (a client certificate needs its key)");
        }
        else if (!string.IsNullOrEmpty(KeyPasswordFile) && string.IsNullOrEmpty(KeyFile))
        {
            errors.Add($"{SectionName}:KeyPasswordFile needs {SectionName}:KeyFile");
        }

        File(nameof(PasswordFile), PasswordFile);
        File(nameof(CaFile), CaFile);
        File(nameof(CertificateFile), CertificateFile);
        File(nameof(KeyFile), KeyFile);
        File(nameof(KeyPasswordFile), KeyPasswordFile);
        File(nameof(OAuthClientSecretFile), OAuthClientSecretFile);
        if (!string.IsNullOrEmpty(PasswordEnvironmentVariable) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PasswordEnvironmentVariable)))
        {
            errors.Add($"{SectionName}:PasswordEnvironmentVariable: environment variable '{PasswordEnvironmentVariable}' is not set");
        }

        return errors;
    }

    /// <summary>
    /// Sets these options on a librdkafka client configuration (producer, consumer or admin),
    /// reading the secrets from their files or environment variable now. Nothing is set for
    /// plaintext. Throws <see cref="InvalidOperationException"/> naming the key and file when a
    /// secret cannot be read.
    /// </summary>
    public void ApplyTo(ClientConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!IsEnabled)
        {
            return;
        }

        config.SecurityProtocol = Protocol.ToLowerInvariant() switch
        {
            "ssl" => SecurityProtocol.Ssl,
            "sasl_plaintext" => SecurityProtocol.SaslPlaintext,
            "sasl_ssl" => SecurityProtocol.SaslSsl,
            _ => throw new InvalidOperationException($"{SectionName}:Protocol must be one of {string.Join(", ", Protocols)}, got '{Protocol}'"),
        };
        if (UsesSasl)
        {
            config.SaslMechanism = SaslMechanism?.ToUpperInvariant() switch
            {
                "PLAIN" => Confluent.Kafka.SaslMechanism.Plain,
                "SCRAM-SHA-256" => Confluent.Kafka.SaslMechanism.ScramSha256,
                "SCRAM-SHA-512" => Confluent.Kafka.SaslMechanism.ScramSha512,
                "OAUTHBEARER" => Confluent.Kafka.SaslMechanism.OAuthBearer,
                _ => throw new InvalidOperationException($"{SectionName}:SaslMechanism must be one of {string.Join(", ", Mechanisms)}, got '{SaslMechanism}'"),
            };
            if (IsOAuth)
            {
                config.SaslOauthbearerMethod = SaslOauthbearerMethod.Oidc;
                config.SaslOauthbearerTokenEndpointUrl = OAuthTokenEndpoint;
                config.SaslOauthbearerClientId = OAuthClientId;
                config.SaslOauthbearerClientSecret = ReadSecret(nameof(OAuthClientSecretFile), OAuthClientSecretFile);
                if (!string.IsNullOrEmpty(OAuthScope))
                {
                    config.SaslOauthbearerScope = OAuthScope;
                }
            }
            else
            {
                config.SaslUsername = Username;
                config.SaslPassword = string.IsNullOrEmpty(PasswordFile)
                    ? Environment.GetEnvironmentVariable(PasswordEnvironmentVariable ?? string.Empty) is { Length: > 0 } password
                        ? password
                        : throw new InvalidOperationException($"{SectionName}:PasswordEnvironmentVariable: environment variable '{PasswordEnvironmentVariable}' is not set")
                    : ReadSecret(nameof(PasswordFile), PasswordFile);
            }
        }

        if (UsesTls)
        {
            config.SslCaLocation = NullIfEmpty(CaFile);
            config.SslCertificateLocation = NullIfEmpty(CertificateFile);
            config.SslKeyLocation = NullIfEmpty(KeyFile);
            if (!string.IsNullOrEmpty(KeyPasswordFile))
            {
                config.SslKeyPassword = ReadSecret(nameof(KeyPasswordFile), KeyPasswordFile);
            }
        }
    }

    private static string ReadSecret(string key, string? path) => SecretFiles.Read($"{SectionName}:{key}", path, MaxSecretFileBytes);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
