using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Vision.Tests;

/// <summary>Small, deterministic frames for model tests: a textured gradient with an optional bright square.</summary>
internal static class TestFrames
{
    public static Frame Scene(int size, int seed, (int X, int Y, int Side)? square = null)
    {
        var random = new Random(seed);
        var bgr = new byte[size * size * 3];
        var shift = random.Next(0, 6);
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var i = ((y * size) + x) * 3;
                bgr[i] = (byte)(60 + (x * 2) + shift);
                bgr[i + 1] = (byte)(80 + y + shift);
                bgr[i + 2] = (byte)(100 + (((x / 4) + (y / 4)) % 2 * 20));
            }
        }

        if (square is { } s)
        {
            for (var y = s.Y; y < s.Y + s.Side; y++)
            {
                for (var x = s.X; x < s.X + s.Side; x++)
                {
                    var i = ((y * size) + x) * 3;
                    bgr[i] = 250;
                    bgr[i + 1] = 20;
                    bgr[i + 2] = 250;
                }
            }
        }

        return new Frame(size, size, bgr);
    }

    /// <summary>A copy of <paramref name="frame"/> with a filled square of <paramref name="side"/> pixels at (x, y): green unless <paramref name="bgr"/> says otherwise.</summary>
    public static Frame WithSquare(Frame frame, int x, int y, int side, (byte B, byte G, byte R)? bgr = null)
    {
        var (b, g, r) = bgr ?? (20, 240, 20);
        var pixels = frame.Bgr.ToArray();
        for (var row = y; row < y + side; row++)
        {
            for (var column = x; column < x + side; column++)
            {
                var i = ((row * frame.Width) + column) * 3;
                (pixels[i], pixels[i + 1], pixels[i + 2]) = (b, g, r);
            }
        }

        return new Frame(frame.Width, frame.Height, pixels);
    }

    public static Frame[] Normal(int size, int count, int seed = 0) =>
        Enumerable.Range(0, count).Select(i => Scene(size, seed + i)).ToArray();
}
