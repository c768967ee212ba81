using System.Security.Cryptography;
using System.Text;
using StreamAnomaly.Core.Data;

namespace StreamAnomaly.Core.Bundles;

/// <summary>
/// The secret that signs model bundles (HMAC-SHA256 over the bundle's digest, see
/// <see cref="ModelBundle"/>): <c>train</c> and <c>calibrate</c> sign with it (<c>--sign-key FILE</c>),
/// workers configured with it (<c>Worker:BundleKeyFile</c>) refuse bundles it did not sign. It is
/// read only from a file, never from a command line or a configuration value, so it shows up in
/// no process list and no checked-in file.
/// </summary>
public sealed class BundleKey
{
    /// <summary>
    /// Fewest characters a key may have: 32 random hex digits are 128 bits, the HMAC-SHA256
    /// security level worth having; `openssl rand -hex 32` makes a 64-character key.
    /// </summary>
    public const int MinLength = 32;

    /// <summary>Largest key file read (a key is one line; anything bigger is the wrong file).</summary>
    public const int MaxFileBytes = 4096;

    private readonly byte[] _key;

    private BundleKey(byte[] key) => _key = key;

    /// <summary>
    /// A key from text (surrounding white space, such as the newline <c>openssl rand -hex 32 &gt; FILE</c>
    /// leaves, is not part of it). Throws <see cref="ArgumentException"/> when shorter than <see cref="MinLength"/>.
    /// </summary>
    public static BundleKey FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        return trimmed.Length >= MinLength
            ? new BundleKey(Encoding.UTF8.GetBytes(trimmed))
            : throw new ArgumentException($"a bundle signing key needs at least {MinLength} characters, got {trimmed.Length} (make one with `openssl rand -hex 32`)");
    }

    /// <summary>
    /// Reads the key file. Throws <see cref="InvalidDataFileException"/> naming it when it is
    /// missing, not a regular file, larger than <see cref="MaxFileBytes"/> or too short.
    /// </summary>
    public static BundleKey FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var kind = FileKinds.Of(path);
        if (kind == FileKind.Missing)
        {
            throw new InvalidDataFileException(path, "bundle signing key file not found");
        }

        if (kind != FileKind.Regular)
        {
            throw FileKinds.NotRegular(path, kind);
        }

        if (new FileInfo(path).Length > MaxFileBytes)
        {
            throw new InvalidDataFileException(path, $"a bundle signing key file holds one line, not more than {MaxFileBytes} bytes");
        }

        try
        {
            return FromText(File.ReadAllText(path));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataFileException(path, e.Message, e);
        }
    }

    /// <summary>Hex HMAC-SHA256 of <paramref name="payload"/>.</summary>
    public string Sign(ReadOnlySpan<byte> payload) => Convert.ToHexStringLower(HMACSHA256.HashData(_key, payload));

    /// <summary>True when <paramref name="signature"/> is this key's signature of <paramref name="payload"/> (compared in constant time).</summary>
    public bool Verifies(ReadOnlySpan<byte> payload, string signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var expected = Encoding.ASCII.GetBytes(Sign(payload));
        var given = Encoding.ASCII.GetBytes(signature.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
