namespace StreamAnomaly.Ingest;

/// <summary>Secrets kept in files (a mounted Kubernetes or compose secret), never in configuration values.</summary>
public static class SecretFiles
{
    /// <summary>
    /// The content of the secret file at <paramref name="path"/> without surrounding white space;
    /// one-line errors (<see cref="InvalidOperationException"/>) name <paramref name="key"/> and the file.
    /// </summary>
    /// <param name="key">The configuration key that names the file, for errors.</param>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">Largest file read: a secret is one line.</param>
    public static string Read(string key, string? path, int maxBytes = 4096)
    {
        try
        {
            var info = new FileInfo(path ?? string.Empty);
            if (!info.Exists)
            {
                throw new InvalidOperationException($"{key}: file '{path}' not found");
            }

            if (info.Length > maxBytes)
            {
                throw new InvalidOperationException($"{key}: file '{path}' holds more than {maxBytes} bytes, not one secret");
            }

            var secret = File.ReadAllText(info.FullName).Trim();
            return secret.Length > 0 ? secret : throw new InvalidOperationException($"{key}: file '{path}' is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{key}: cannot read '{path}' ({e.Message})", e);
        }
    }
}
