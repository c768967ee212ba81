using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;

namespace StreamAnomaly.Cluster.Tests;

/// <summary>
/// Cluster traffic over TLS with mutual authentication and pinned certificates: two in-process
/// nodes on loopback, certificates made in the test (self-signed, ECDSA P-256).
/// </summary>
public sealed class ClusterTlsSpec : IDisposable
{
    private const string Password = "pfx-password";

    /// <summary>How long a refused node is given to join (a good pair joins in about 1.5 s).</summary>
    private static readonly TimeSpan RefusalWait = TimeSpan.FromSeconds(6);

    private readonly string _dir = Directory.CreateTempSubdirectory("cluster-tls-").FullName;
    private readonly List<ActorSystem> _systems = [];

    public void Dispose()
    {
        Task.WhenAll(_systems.Select(static s => s.Terminate())).WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A self-signed certificate with its key, written as a password-protected PKCS#12 file; returns the options naming it.</summary>
    private ClusterSecurityOptions Certificate(string name, params string[] trusted)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        var path = Path.Combine(_dir, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, Password));
        var passwordFile = Path.Combine(_dir, $"{name}.password");
        File.WriteAllText(passwordFile, Password + "\n");
        return new ClusterSecurityOptions { CertificateFile = path, CertificatePasswordFile = passwordFile, TrustedThumbprints = trusted };
    }

    /// <summary>A certificate authority (PEM file) and a signer for node certificates under it.</summary>
    private (string CaFile, Func<string, ClusterSecurityOptions> Issue) Authority(string name)
    {
        var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = TimeProvider.System.GetUtcNow();
        var ca = request.CreateSelfSigned(now.AddDays(-2), now.AddDays(2));
        var caFile = Path.Combine(_dir, $"{name}.crt");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        var serial = 1;
        return (caFile, node =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var nodeRequest = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
            using var issued = nodeRequest.Create(ca, now.AddDays(-1), now.AddDays(1), [(byte)serial++, 7, 7, 7]);
            using var withKey = issued.CopyWithPrivateKey(key);
            var path = Path.Combine(_dir, $"{node}.pfx");
            File.WriteAllBytes(path, withKey.Export(X509ContentType.Pkcs12, Password));
            var passwordFile = Path.Combine(_dir, $"{node}.password");
            File.WriteAllText(passwordFile, Password);
            return new ClusterSecurityOptions { CertificateFile = path, CertificatePasswordFile = passwordFile, CaFile = caFile };
        });
    }

    private static string FingerprintOf(ClusterSecurityOptions options)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertificateFile!, Password);
        return ClusterSecurityOptions.Fingerprint(certificate);
    }

    private ActorSystem Node(ClusterSecurityOptions security)
    {
        var node = new NodeOptions("plant", "127.0.0.1", 0, [], [PlantSharding.WorkerRole]);
        Assert.Empty(security.Validate(node));
        var system = ActorSystem.Create(node.ClusterName, security.ToSetup(node.ToAkkaConfig("akka.loglevel = ERROR")));
        _systems.Add(system);
        return system;
    }

    /// <summary>Starts a one-node cluster, lets <paramref name="joiner"/> join it and says whether both are up within <paramref name="within"/>.</summary>
    private static async Task<bool> JoinsWithin(ActorSystem seed, ActorSystem joiner, TimeSpan within)
    {
        var seedCluster = Akka.Cluster.Cluster.Get(seed);
        seedCluster.Join(seedCluster.SelfAddress);
        Akka.Cluster.Cluster.Get(joiner).Join(seedCluster.SelfAddress);
        var deadline = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(deadline) < within)
        {
            if (seedCluster.State.Members.Count(static m => m.Status == MemberStatus.Up) == 2)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    [Fact]
    public async Task Two_nodes_sharing_the_cluster_certificate_form_a_cluster_over_tls()
    {
        var shared = Certificate("cluster");
        var seed = Node(shared);

        Assert.True(seed.Settings.Config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.True(await JoinsWithin(seed, Node(shared), TimeSpan.FromSeconds(20)), "the second node joins over TLS");
    }

    /// <summary>Answers a line status query with a line status naming the same line.</summary>
    private sealed class LineStatusEcho : ReceiveActor
    {
        public LineStatusEcho() => Receive<GetLineStatus>(q => Sender.Tell(new LineStatus(q.Line, null, 7)));
    }

    [Fact]
    public async Task A_query_and_its_reply_cross_between_tls_nodes()
    {
        var shared = Certificate("cluster");
        var seed = Node(shared);
        var joiner = Node(shared);
        seed.ActorOf(Props.Create(() => new LineStatusEcho()), "echo");
        Assert.True(await JoinsWithin(seed, joiner, TimeSpan.FromSeconds(20)));

        var echo = joiner.ActorSelection(new RootActorPath(Akka.Cluster.Cluster.Get(seed).SelfAddress) / "user" / "echo");
        var reply = await echo.Ask<LineStatus>(new GetLineStatus("line-b"), TimeSpan.FromSeconds(10));

        Assert.Equal(new LineStatus("line-b", null, 7), reply);
    }

    [Fact]
    public async Task Nodes_with_their_own_certificates_form_a_cluster_when_each_pins_both()
    {
        var a = Certificate("node-a");
        var b = Certificate("node-b");
        string[] both = [FingerprintOf(a), FingerprintOf(b)];

        Assert.True(await JoinsWithin(Node(a with { TrustedThumbprints = both }), Node(b with { TrustedThumbprints = both }), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Nodes_with_certificates_of_the_cluster_ca_form_a_cluster()
    {
        var (_, issue) = Authority("plant-ca");

        Assert.True(await JoinsWithin(Node(issue("node-a")), Node(issue("node-b")), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task A_node_whose_certificate_another_ca_signed_is_refused()
    {
        var (caFile, issue) = Authority("plant-ca");
        var (_, foreign) = Authority("other-ca");
        var seed = Node(issue("node-a"));
        var intruder = Node(foreign("intruder") with { CaFile = caFile });

        Assert.False(await JoinsWithin(seed, intruder, RefusalWait), "a node with a certificate of another CA joined");
    }

    [Fact]
    public async Task A_node_with_a_certificate_that_is_not_pinned_is_refused()
    {
        var seed = Node(Certificate("cluster"));
        var intruder = Node(Certificate("intruder"));

        Assert.False(await JoinsWithin(seed, intruder, RefusalWait), "a node with an unpinned certificate joined");
    }

    [Fact]
    public async Task A_node_without_tls_is_refused()
    {
        var seed = Node(Certificate("cluster"));
        var plaintext = Node(new ClusterSecurityOptions());

        Assert.False(await JoinsWithin(seed, plaintext, RefusalWait), "a plaintext node joined a TLS cluster");
    }

    /// <summary>
    /// Opens a raw TLS connection to a node's cluster port presenting <paramref name="client"/>
    /// (none when null), trusting whatever the node presents, and says whether the node hung up
    /// (the handshake failed, or the connection closed) within <paramref name="within"/>.
    /// </summary>
    private static async Task<bool> HangsUp(ActorSystem node, X509Certificate2? client, TimeSpan within)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Akka.Cluster.Cluster.Get(node).SelfAddress.Port!.Value);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "cluster",
                ClientCertificates = client is null ? null : new X509CertificateCollection { client },
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }).WaitAsync(within);
            var read = await tls.ReadAsync(new byte[1]).AsTask().WaitAsync(within);
            return read == 0;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return true;
        }
        catch (TimeoutException)
        {
            return false; // no hang-up within the wait: the node accepted the client and waits for its first message
        }
    }

    [Fact]
    public async Task The_cluster_port_accepts_a_tls_client_presenting_the_pinned_certificate()
    {
        var shared = Certificate("cluster");
        var seed = Node(shared);
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(shared.CertificateFile!, Password);

        Assert.False(await HangsUp(seed, certificate, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task The_cluster_port_refuses_a_tls_client_presenting_a_certificate_that_is_not_pinned()
    {
        var seed = Node(Certificate("cluster"));
        using var intruder = X509CertificateLoader.LoadPkcs12FromFile(Certificate("intruder").CertificateFile!, Password);

        Assert.True(await HangsUp(seed, intruder, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task The_cluster_port_refuses_a_tls_client_presenting_no_certificate()
    {
        var seed = Node(Certificate("cluster"));

        Assert.True(await HangsUp(seed, null, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_node_reachable_from_other_machines_without_tls_is_refused_naming_the_keys()
    {
        var errors = new ClusterSecurityOptions().Validate(new NodeOptions("plant", "10.0.0.5", 4053, [], ["worker"]));

        Assert.Equal(["Node:Host 10.0.0.5 is reachable from other machines, so cluster traffic needs TLS: set Cluster:CertificateFile (a PKCS#12 file with its key) or Cluster:AllowPlaintext=true"], errors);
    }

    [Fact]
    public void Plaintext_beyond_loopback_is_accepted_when_explicitly_allowed()
    {
        Assert.Empty(new ClusterSecurityOptions { AllowPlaintext = true }.Validate(new NodeOptions("plant", "aggregator-0.plant", 4053, [], ["worker"])));
    }

    [Fact]
    public void A_missing_certificate_file_is_refused_naming_key_and_path()
    {
        var missing = Path.Combine(_dir, "none.pfx");

        Assert.Equal([$"Cluster:CertificateFile: file '{missing}' not found"], new ClusterSecurityOptions { CertificateFile = missing }.Validate(NodeOptions.SingleNode));
    }

    [Fact]
    public void A_malformed_pinned_fingerprint_is_refused_naming_its_index()
    {
        var options = Certificate("cluster") with { TrustedThumbprints = ["AB:CD"] };

        Assert.Equal(["Cluster:TrustedThumbprints:0 must be a SHA-256 fingerprint (64 hex digits), got 'AB:CD'"], options.Validate(NodeOptions.SingleNode));
    }

    [Fact]
    public void A_wrong_certificate_password_fails_the_node_naming_key_and_file()
    {
        var options = Certificate("cluster");
        File.WriteAllText(options.CertificatePasswordFile!, "wrong");

        var ex = Assert.Throws<InvalidOperationException>(() => options.ToSetup(NodeOptions.SingleNode.ToAkkaConfig()));
        Assert.StartsWith($"Cluster:CertificateFile: cannot read '{options.CertificateFile}' as PKCS#12 with the given password", ex.Message, StringComparison.Ordinal);
    }
}
