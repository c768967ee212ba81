using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision;

/// <summary>Chooses the TorchSharp device from a user's "cpu" / "cuda" / "cuda:N" string.</summary>
public static class TorchDevices
{
    /// <summary>Parses and checks a device name; throws <see cref="ArgumentException"/> with a clear message.</summary>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = name.Trim().ToLowerInvariant();
        if (normalized == "cpu")
        {
            return CPU;
        }

        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                throw new ArgumentException($"device '{name}': CUDA is not available in this build or on this machine (build with -p:TorchBackend=cuda on a GPU machine)");
            }

            return new Device(normalized);
        }

        throw new ArgumentException($"device '{name}' is not one of cpu, cuda, cuda:N");
    }
}
