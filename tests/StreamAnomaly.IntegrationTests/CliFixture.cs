using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Core.Data;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// A tiny labelled data set in the interchange format, made with plain frames (a textured
/// gradient, anomalies = a magenta square), plus helpers to run the CLI in-process.
/// </summary>
public sealed class CliFixture : IDisposable
{
    public CliFixture()
    {
        Root = Directory.CreateTempSubdirectory("cli-tests-").FullName;
        WriteClips(Path.Combine(Root, "data", "train"), anomalous: false, clips: 2, frames: 24, seed: 0);
        WriteClips(Path.Combine(Root, "data", "val"), anomalous: false, clips: 1, frames: 16, seed: 100);
        WriteClips(Path.Combine(Root, "data", "test"), anomalous: true, clips: 2, frames: 16, seed: 200);
    }

    public string Root { get; }

    public string Data(string split) => Path.Combine(Root, "data", split);

    public string PathOf(string name) => Path.Combine(Root, name);

    public static Frame Scene(int size, int seed, bool square)
    {
        var random = new Random(seed);
        var bgr = new byte[size * size * 3];
        var shift = random.Next(0, 6);
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var i = ((y * size) + x) * 3;
                var inSquare = square && x is >= 12 and < 24 && y is >= 8 and < 20;
                bgr[i] = inSquare ? (byte)240 : (byte)(60 + (x * 2) + shift);
                bgr[i + 1] = inSquare ? (byte)20 : (byte)(80 + y + shift);
                bgr[i + 2] = inSquare ? (byte)240 : (byte)(100 + (((x / 4) + (y / 4)) % 2 * 20));
            }
        }

        return new Frame(size, size, bgr);
    }

    /// <summary>The pixels <see cref="Scene"/> paints the square on (none for a frame without it).</summary>
    private static BinaryMask SquareMask(int size, bool square)
    {
        var data = new bool[size * size];
        for (var y = 0; y < size && square; y++)
        {
            for (var x = 0; x < size; x++)
            {
                data[(y * size) + x] = x is >= 12 and < 24 && y is >= 8 and < 20;
            }
        }

        return new BinaryMask(size, size, data);
    }

    private static void WriteClips(string folder, bool anomalous, int clips, int frames, int seed)
    {
        Directory.CreateDirectory(folder);
        for (var c = 0; c < clips; c++)
        {
            using var writer = new ClipWriter(folder, $"clip{c}", fps: 5, ClipStorage.PngFolder);
            for (var f = 0; f < frames; f++)
            {
                var isAnomalous = anomalous && f % 2 == 1;
                var label = new FrameLabel(f, isAnomalous ? 1 : 0, isAnomalous ? "square" : "background");
                var masks = anomalous ? new Dictionary<string, BinaryMask> { [EvalWorkflow.AnomalyMask] = SquareMask(48, isAnomalous) } : null;
                writer.Append(Scene(48, seed + (c * 1000) + f, isAnomalous), label, masks);
            }

            writer.Complete();
        }
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
