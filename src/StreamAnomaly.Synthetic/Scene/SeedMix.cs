namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// Derives independent integer seeds from (clip seed, stream, index) with SplitMix64, so that each
/// random feature of the scene (cycle jitter, people, hands, noise...) has its own stream and
/// switching one feature off never changes another. Never uses process-randomised hashing.
/// </summary>
internal static class SeedMix
{
    /// <summary>Seed streams; the numeric values are part of the output format (changing one changes every clip).</summary>
    internal enum Stream
    {
        Cycle = 1,
        People = 2,
        Hands = 3,
        Shadows = 4,
        Flicker = 5,
        Drift = 6,
        Noise = 7,
        Anomaly = 8,
        Patches = 9,
        Suite = 10,
    }

    public static int Derive(int seed, Stream stream, long index)
    {
        var x = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)stream << 56) ^ (ulong)index);
        x = Mix(Mix(x) + (ulong)index);
        return unchecked((int)(x ^ (x >> 32)));
    }

    public static Random Random(int seed, Stream stream, long index) => new(Derive(seed, stream, index));

    private static ulong Mix(ulong z)
    {
        z = unchecked(z + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}

/// <summary>Small helpers on <see cref="System.Random"/>.</summary>
internal static class RandomExtensions
{
    public static double Uniform(this Random random, double min, double max) => min + (random.NextDouble() * (max - min));

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
