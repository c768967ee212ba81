using Confluent.Kafka;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

/// <summary>Kafka:Security: what lands in every client's librdkafka configuration, and what is refused.</summary>
public sealed class KafkaSecurityOptionsTests : IDisposable
{
    private const string Bootstrap = "kafka-0:9093";

    private readonly string _dir = Directory.CreateTempSubdirectory("kafka-security-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Secret(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static KafkaOptions Options(KafkaSecurityOptions security) => new() { BootstrapServers = Bootstrap, Security = security };

    /// <summary>The producer, consumer and admin configurations of the options, after validation.</summary>
    private static ClientConfig[] Clients(KafkaSecurityOptions security)
    {
        var options = Options(security);
        Assert.Empty(options.Validate());
        return
        [
            KafkaClientConfig.Producer(options, Bootstrap, options.MaxRecordBytes, "test"),
            KafkaClientConfig.Consumer(options, Bootstrap, "test"),
            KafkaClientConfig.Admin(options),
        ];
    }

    private static IReadOnlyList<string> Errors(KafkaSecurityOptions security) => Options(security).Validate();

    [Fact]
    public void Plaintext_by_default_sets_no_security_property()
    {
        Assert.All(Clients(new KafkaSecurityOptions()), c =>
        {
            Assert.Null(c.SecurityProtocol);
            Assert.DoesNotContain(c, p => p.Key.StartsWith("sasl.", StringComparison.Ordinal) || p.Key.StartsWith("ssl.", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Tls_with_a_client_certificate_sets_the_ca_certificate_key_and_key_password()
    {
        var security = new KafkaSecurityOptions
        {
            Protocol = "ssl",
            CaFile = Secret("ca.crt", "ca"),
            CertificateFile = Secret("tls.crt", "cert"),
            KeyFile = Secret("tls.key", "key"),
            KeyPasswordFile = Secret("key-password", "k3y-pass\n"),
        };

        Assert.All(Clients(security), c =>
        {
            Assert.Equal(SecurityProtocol.Ssl, c.SecurityProtocol);
            Assert.Equal(security.CaFile, c.SslCaLocation);
            Assert.Equal(security.CertificateFile, c.SslCertificateLocation);
            Assert.Equal(security.KeyFile, c.SslKeyLocation);
            Assert.Equal("k3y-pass", c.SslKeyPassword);
            Assert.Null(c.SaslMechanism);
        });
    }

    [Theory]
    [InlineData("PLAIN", SaslMechanism.Plain)]
    [InlineData("SCRAM-SHA-256", SaslMechanism.ScramSha256)]
    [InlineData("SCRAM-SHA-512", SaslMechanism.ScramSha512)]
    public void Sasl_with_a_password_file_sets_mechanism_user_and_password(string mechanism, SaslMechanism expected)
    {
        var security = new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = mechanism, Username = "plant", PasswordFile = Secret("password", "s3cret\n") };

        Assert.All(Clients(security), c =>
        {
            Assert.Equal(SecurityProtocol.SaslSsl, c.SecurityProtocol);
            Assert.Equal(expected, c.SaslMechanism);
            Assert.Equal("plant", c.SaslUsername);
            Assert.Equal("s3cret", c.SaslPassword);
        });
    }

    [Fact]
    public void Sasl_password_can_come_from_a_named_environment_variable()
    {
        var variable = $"STREAMANOMALY_TEST_KAFKA_PASSWORD_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "from-env");
        try
        {
            var security = new KafkaSecurityOptions { Protocol = "sasl_plaintext", SaslMechanism = "SCRAM-SHA-512", Username = "plant", PasswordEnvironmentVariable = variable };

            Assert.All(Clients(security), c =>
            {
                Assert.Equal(SecurityProtocol.SaslPlaintext, c.SecurityProtocol);
                Assert.Equal("from-env", c.SaslPassword);
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Oauthbearer_uses_oidc_client_credentials_with_the_secret_from_its_file()
    {
        var security = new KafkaSecurityOptions
        {
            Protocol = "sasl_ssl",
            SaslMechanism = "OAUTHBEARER",
            OAuthTokenEndpoint = "https://idp.example/oauth2/token",
            OAuthClientId = "streamanomaly",
            OAuthClientSecretFile = Secret("client-secret", "oidc-secret"),
            OAuthScope = "kafka",
        };

        Assert.All(Clients(security), c =>
        {
            Assert.Equal(SaslMechanism.OAuthBearer, c.SaslMechanism);
            Assert.Equal(SaslOauthbearerMethod.Oidc, c.SaslOauthbearerMethod);
            Assert.Equal("https://idp.example/oauth2/token", c.SaslOauthbearerTokenEndpointUrl);
            Assert.Equal("streamanomaly", c.SaslOauthbearerClientId);
            Assert.Equal("oidc-secret", c.SaslOauthbearerClientSecret);
            Assert.Equal("kafka", c.SaslOauthbearerScope);
            Assert.Null(c.SaslPassword);
        });
    }

    [Fact]
    public void An_unknown_protocol_is_refused_listing_the_known_ones()
    {
        Assert.Equal(["Kafka:Security:Protocol must be one of plaintext, ssl, sasl_plaintext, sasl_ssl, got 'tls'"], Errors(new KafkaSecurityOptions { Protocol = "tls" }));
    }

    [Fact]
    public void A_mechanism_without_a_sasl_protocol_is_refused()
    {
        Assert.Contains("Kafka:Security:SaslMechanism PLAIN needs Kafka:Security:Protocol sasl_plaintext or sasl_ssl, got 'ssl'", Errors(new KafkaSecurityOptions { Protocol = "ssl", SaslMechanism = "PLAIN" }));
    }

    [Fact]
    public void A_sasl_protocol_without_a_mechanism_is_refused()
    {
        Assert.Equal(["Kafka:Security:SaslMechanism must be set with Protocol sasl_ssl (one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)"], Errors(new KafkaSecurityOptions { Protocol = "sasl_ssl" }));
    }

    [Fact]
    public void An_unknown_mechanism_is_refused()
    {
        Assert.Equal(["Kafka:Security:SaslMechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, got 'GSSAPI'"], Errors(new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = "GSSAPI" }));
    }

    [Fact]
    public void Scram_without_user_or_password_is_refused_naming_the_keys()
    {
        var errors = Errors(new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = "SCRAM-SHA-256" });

        Assert.Contains("Kafka:Security:Username must be set with SaslMechanism SCRAM-SHA-256", errors);
        Assert.Contains("Kafka:Security: SaslMechanism SCRAM-SHA-256 needs exactly one of PasswordFile and PasswordEnvironmentVariable, got 0", errors);
    }

    [Fact]
    public void A_missing_secret_file_is_refused_naming_key_and_path()
    {
        var missing = Path.Combine(_dir, "no-such-password");

        Assert.Equal([$"Kafka:Security:PasswordFile: file '{missing}' not found"], Errors(new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = "PLAIN", Username = "plant", PasswordFile = missing }));
    }

    [Fact]
    public void An_unset_password_environment_variable_is_refused_naming_it()
    {
        Assert.Equal(["Kafka:Security:PasswordEnvironmentVariable: environment variable 'STREAMANOMALY_TEST_UNSET_VARIABLE' is not set"],
            Errors(new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = "PLAIN", Username = "plant", PasswordEnvironmentVariable = "STREAMANOMALY_TEST_UNSET_VARIABLE" }));
    }

    [Fact]
    public void Oauthbearer_needs_an_https_token_endpoint_client_id_and_secret_file()
    {
        var errors = Errors(new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = "OAUTHBEARER", OAuthTokenEndpoint = "http://idp.example/token" });

        Assert.Contains("Kafka:Security:OAuthTokenEndpoint must be an https URL (the client secret travels to it), got 'http://idp.example/token'", errors);
        Assert.Contains("Kafka:Security:OAuthClientId must be set with SaslMechanism OAUTHBEARER", errors);
        Assert.Contains("Kafka:Security:OAuthClientSecretFile must be set with SaslMechanism OAUTHBEARER", errors);
    }

    [Fact]
    public void Tls_files_without_a_tls_protocol_are_refused()
    {
        Assert.Equal(["Kafka:Security:CaFile applies only to Protocol ssl or sasl_ssl, got 'sasl_plaintext'"],
            Errors(new KafkaSecurityOptions { Protocol = "sasl_plaintext", SaslMechanism = "PLAIN", Username = "plant", PasswordFile = Secret("password", "p"), CaFile = Secret("ca.crt", "ca") }));
    }

    [Fact]
    public void A_client_certificate_without_its_key_is_refused()
    {
        Assert.Equal(["Kafka:Security:CertificateFile and Kafka:Security:KeyFile must be set together (a client certificate needs its key)"],
            Errors(new KafkaSecurityOptions { Protocol = "ssl", CertificateFile = Secret("tls.crt", "cert") }));
    }

    [Fact]
    public void Security_with_the_embedded_broker_is_refused()
    {
        var errors = new KafkaOptions { Security = new KafkaSecurityOptions { Protocol = "ssl" } }.Validate();

        Assert.Equal(["Kafka:Security:Protocol ssl needs a real cluster in Kafka:BootstrapServers (the embedded broker speaks plaintext only)"], errors);
    }

    [Fact]
    public void A_secret_file_removed_after_validation_fails_the_client_naming_key_and_path()
    {
        var security = new KafkaSecurityOptions { Protocol = "sasl_ssl", SaslMechanism = "PLAIN", Username = "plant", PasswordFile = Secret("password", "p") };
        File.Delete(security.PasswordFile!);

        var ex = Assert.Throws<InvalidOperationException>(() => KafkaClientConfig.Admin(Options(security)));
        Assert.Equal($"Kafka:Security:PasswordFile: file '{security.PasswordFile}' not found", ex.Message);
    }
}
