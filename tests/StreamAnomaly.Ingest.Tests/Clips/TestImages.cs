using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Ingest.Tests.Clips;

/// <summary>Small deterministic frames, masks and temporary folders for the clip tests.</summary>
internal static class TestImages
{
    /// <summary>
    /// A smooth frame (gradient plus a bright square whose position depends on <paramref name="index"/>),
    /// so that lossy MJPG keeps it close to the original.
    /// </summary>
    public static Frame Smooth(int width, int height, int index)
    {
        var bgr = new byte[width * height * 3];
        var left = (index * 7) % Math.Max(1, width - 16);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = ((y * width) + x) * 3;
                var inSquare = x >= left && x < left + 16 && y >= 8 && y < 24;
                bgr[i] = (byte)(40 + (x * 150 / width));
                bgr[i + 1] = (byte)(40 + (y * 150 / height));
                bgr[i + 2] = inSquare ? (byte)220 : (byte)90;
            }
        }

        return new Frame(width, height, bgr);
    }

    /// <summary>A frame of seeded random bytes (for exact, lossless round trips).</summary>
    public static Frame Random(int width, int height, int seed)
    {
        var bgr = new byte[width * height * 3];
        new Random(seed).NextBytes(bgr);
        return new Frame(width, height, bgr);
    }

    /// <summary>A mask that is true inside the axis-aligned rectangle [x0, x1) x [y0, y1).</summary>
    public static BinaryMask Rectangle(int width, int height, int x0, int y0, int x1, int y1)
    {
        var data = new bool[width * height];
        for (var y = y0; y < y1; y++)
        {
            for (var x = x0; x < x1; x++)
            {
                data[(y * width) + x] = true;
            }
        }

        return new BinaryMask(width, height, data);
    }

    public static double MeanAbsoluteError(Frame a, Frame b)
    {
        long sum = 0;
        for (var i = 0; i < a.Bgr.Length; i++)
        {
            sum += Math.Abs(a.Bgr[i] - b.Bgr[i]);
        }

        return (double)sum / a.Bgr.Length;
    }
}

/// <summary>A fresh empty folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sa-ingest-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>File and folder names directly in the folder, sorted.</summary>
    public string[] Entries() =>
        Directory.EnumerateFileSystemEntries(Path).Select(System.IO.Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Special files for the tests of what must never be opened.</summary>
internal static class SpecialFiles
{
    /// <summary>Creates a FIFO (named pipe) at <paramref name="path"/>: opening it for reading blocks until a writer comes.</summary>
    public static void Fifo(string path)
    {
        if (MakeFifo(path, 0x1B6) != 0)
        {
            throw new IOException($"mkfifo {path} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, uint mode);
}
