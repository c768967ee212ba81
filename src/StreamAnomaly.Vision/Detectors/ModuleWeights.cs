using StreamAnomaly.Core.Data;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors;

/// <summary>A module's parameters as bundle bytes (TorchSharp's state-dict format), both ways.</summary>
internal static class ModuleWeights
{
    public static byte[] Export(nn.Module module)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            module.save(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Loads <paramref name="weights"/> into <paramref name="module"/>; on a mismatch disposes the
    /// module and throws <see cref="InvalidDataFileException"/> naming the bundle.
    /// </summary>
    public static void Import(nn.Module module, byte[] weights, string path, string detector)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(weights));
            module.load(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or IOException)
        {
            module.Dispose();
            throw new InvalidDataFileException(path, $"corrupted model bundle (weights do not fit the {detector} network: {e.Message})", e);
        }
    }
}
