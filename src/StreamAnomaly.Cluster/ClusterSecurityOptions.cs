using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace StreamAnomaly.Cluster;

/// <summary>
/// How cluster traffic (Akka.Remote over DotNetty TCP) is protected, bound from the configuration
/// section <c>Cluster</c>. With <see cref="CertificateFile"/> set, every connection between nodes
/// is TLS with mutual authentication: each side presents its certificate and accepts the other's
/// only when it is within its validity period and trusted: signed by the cluster's own
/// certificate authority (<see cref="CaFile"/>: per-node certificates) and/or with its SHA-256
/// fingerprint pinned (<see cref="TrustedThumbprints"/>); with neither, only a certificate equal
/// to this node's own (one cluster certificate shared by every node). Neither the system's
/// certificate authorities nor host names are consulted.
/// </summary>
/// <remarks>
/// Invariants checked by <see cref="Validate"/>: a node whose <see cref="NodeOptions.Host"/> is
/// not a loopback address has a certificate unless <see cref="AllowPlaintext"/> (as the HTTP side
/// needs a token beyond loopback); the certificate and CA files exist; at most one password source; each
/// pinned fingerprint is 64 hexadecimal digits.
/// </remarks>
public sealed record ClusterSecurityOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Cluster";

    /// <summary>Largest password file read (bytes): a password is one line.</summary>
    public const int MaxPasswordFileBytes = 4096;

    /// <summary>PKCS#12 (.pfx) file holding this node's certificate and its private key; null = plaintext.</summary>
    public string? CertificateFile { get; init; }

    /// <summary>File holding the password of <see cref="CertificateFile"/> (a mounted secret).</summary>
    public string? CertificatePasswordFile { get; init; }

    /// <summary>Name of the environment variable holding the password of <see cref="CertificateFile"/>.</summary>
    public string? CertificatePasswordEnvironmentVariable { get; init; }

    /// <summary>
    /// SHA-256 fingerprints (64 hex digits, ':' and spaces ignored) of the certificates other nodes
    /// may present; empty = only this node's own certificate. List two during a certificate rotation.
    /// </summary>
    public string[] TrustedThumbprints { get; init; } = [];

    /// <summary>
    /// PEM or DER file of the certificate authority that signs the nodes' certificates; a peer's
    /// certificate must chain to it (no other root is trusted; revocation is not checked).
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>Lets a node reachable from other machines talk plaintext to its peers (a private network you trust).</summary>
    public bool AllowPlaintext { get; init; }

    /// <summary>True when cluster traffic is TLS.</summary>
    public bool UsesTls => !string.IsNullOrEmpty(CertificateFile);

    /// <summary>Every problem, each naming its key; <paramref name="node"/> tells whether the node is reachable from other machines.</summary>
    public IReadOnlyList<string> Validate(NodeOptions node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var errors = new List<string>();
        if (!UsesTls && !AllowPlaintext && !IsLoopback(node.Host))
        {
            errors.Add($"Node:Host {node.Host} is reachable from other machines, so cluster traffic needs TLS: set {SectionName}:CertificateFile (a PKCS#12 file with its key) or {SectionName}:AllowPlaintext=true");
        }

        if (!UsesTls)
        {
            if (!string.IsNullOrEmpty(CertificatePasswordFile) || !string.IsNullOrEmpty(CertificatePasswordEnvironmentVariable) || TrustedThumbprints.Length > 0 || !string.IsNullOrEmpty(CaFile))
            {
                errors.Add($"{SectionName}:CertificatePasswordFile, CertificatePasswordEnvironmentVariable, TrustedThumbprints and CaFile need {SectionName}:CertificateFile");
            }

            return errors;
        }

        if (!File.Exists(CertificateFile))
        {
            errors.Add($"{SectionName}:CertificateFile: file '{CertificateFile}' not found");
        }

        if (!string.IsNullOrEmpty(CaFile) && !File.Exists(CaFile))
        {
            errors.Add($"{SectionName}:CaFile: file '{CaFile}' not found");
        }

        if (!string.IsNullOrEmpty(CertificatePasswordFile) && !string.IsNullOrEmpty(CertificatePasswordEnvironmentVariable))
        {
            errors.Add($"{SectionName}:CertificatePasswordFile and {SectionName}:CertificatePasswordEnvironmentVariable: set one, not both");
        }

        if (!string.IsNullOrEmpty(CertificatePasswordFile) && !File.Exists(CertificatePasswordFile))
        {
            errors.Add($"{SectionName}:CertificatePasswordFile: file '{CertificatePasswordFile}' not found");
        }

        if (!string.IsNullOrEmpty(CertificatePasswordEnvironmentVariable) && Environment.GetEnvironmentVariable(CertificatePasswordEnvironmentVariable) is null)
        {
            errors.Add($"{SectionName}:CertificatePasswordEnvironmentVariable: environment variable '{CertificatePasswordEnvironmentVariable}' is not set");
        }

        for (var i = 0; i < TrustedThumbprints.Length; i++)
        {
            if (Normalise(TrustedThumbprints[i]) is not { Length: 64 } pin || !pin.All(char.IsAsciiHexDigit))
            {
                errors.Add($"{SectionName}:TrustedThumbprints:{i} must be a SHA-256 fingerprint (64 hex digits), got '{TrustedThumbprints[i]}'");
            }
        }

        return errors;
    }

    /// <summary>
    /// The actor system's setup: <paramref name="config"/> and, with TLS, the certificate (read now)
    /// and the pinning validator, with <c>enable-ssl</c> and mutual authentication switched on.
    /// Throws <see cref="InvalidOperationException"/> naming the key and file when the certificate
    /// cannot be read or has no private key.
    /// </summary>
    public ActorSystemSetup ToSetup(Config config, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!UsesTls)
        {
            return ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config));
        }

        var certificate = LoadCertificate();
        var ca = LoadCa();
        var pins = TrustedThumbprints.Length > 0 ? TrustedThumbprints.Select(Normalise).ToHashSet(StringComparer.Ordinal)
            : ca is null ? new HashSet<string>([Fingerprint(certificate)], StringComparer.Ordinal)
            : null;
        var clock = time ?? TimeProvider.System;
        var tls = ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp.enable-ssl = true
            akka.remote.dot-netty.tcp.ssl.require-mutual-authentication = true
            akka.remote.dot-netty.tcp.ssl.validate-certificate-hostname = false
            """);
        var ssl = new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false,
            customValidator: (peer, _, remote, _, log) => IsTrusted(peer, remote, ca, pins, clock, log));
        return BootstrapSetup.Create().WithConfig(tls.WithFallback(config)).And(ssl);
    }

    /// <summary>The SHA-256 fingerprint of a certificate as <see cref="TrustedThumbprints"/> lists it (64 upper-case hex digits).</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }

    private static bool IsTrusted(X509Certificate2? peer, string remote, X509Certificate2? ca, HashSet<string>? pins, TimeProvider clock, ILoggingAdapter log)
    {
        if (peer is null)
        {
            log.Warning("cluster TLS: refused {0}: it presented no certificate", remote);
            return false;
        }

        var fingerprint = Fingerprint(peer);
        if (pins is not null && !pins.Contains(fingerprint))
        {
            log.Warning("cluster TLS: refused {0}: certificate {1} (SHA-256 {2}) is not pinned in {3}:TrustedThumbprints", remote, peer.Subject, fingerprint, SectionName);
            return false;
        }

        var now = clock.GetUtcNow();
        if (now < peer.NotBefore.ToUniversalTime() || now > peer.NotAfter.ToUniversalTime())
        {
            log.Warning("cluster TLS: refused {0}: certificate {1} is valid only from {2:u} to {3:u}", remote, peer.Subject, peer.NotBefore.ToUniversalTime(), peer.NotAfter.ToUniversalTime());
            return false;
        }

        if (ca is not null && !ChainsTo(peer, ca, now))
        {
            log.Warning("cluster TLS: refused {0}: certificate {1} is not signed by the cluster CA {2} ({3}:CaFile)", remote, peer.Subject, ca.Subject, SectionName);
            return false;
        }

        return true;
    }

    /// <summary>Whether <paramref name="peer"/> chains to <paramref name="ca"/> alone, at <paramref name="now"/>.</summary>
    private static bool ChainsTo(X509Certificate2 peer, X509Certificate2 ca, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(peer);
    }

    private X509Certificate2? LoadCa()
    {
        if (string.IsNullOrEmpty(CaFile))
        {
            return null;
        }

        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(CaFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            throw new InvalidOperationException($"{SectionName}:CaFile: cannot read '{CaFile}' as a PEM or DER certificate ({e.Message.TrimEnd('.')})", e);
        }
    }

    private X509Certificate2 LoadCertificate()
    {
        string? password = null;
        if (!string.IsNullOrEmpty(CertificatePasswordFile))
        {
            var info = new FileInfo(CertificatePasswordFile);
            if (!info.Exists || info.Length > MaxPasswordFileBytes)
            {
                throw new InvalidOperationException($"{SectionName}:CertificatePasswordFile: '{CertificatePasswordFile}' must be a file of at most {MaxPasswordFileBytes} bytes");
            }

            password = File.ReadAllText(info.FullName).Trim();
        }
        else if (!string.IsNullOrEmpty(CertificatePasswordEnvironmentVariable))
        {
            password = Environment.GetEnvironmentVariable(CertificatePasswordEnvironmentVariable);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(CertificateFile!, password);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{SectionName}:CertificateFile: cannot read '{CertificateFile}' as PKCS#12 with the given password ({e.Message.TrimEnd('.')})", e);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"{SectionName}:CertificateFile: cannot read '{CertificateFile}' ({e.Message})", e);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"{SectionName}:CertificateFile: '{CertificateFile}' holds no private key (export the certificate with its key)");
        }

        return certificate;
    }

    private static string Normalise(string thumbprint) =>
        new string(thumbprint.Where(static c => c is not (':' or ' ')).ToArray()).ToUpperInvariant();

    /// <summary>127.0.0.0/8, ::1 and "localhost": only this machine can connect.</summary>
    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
