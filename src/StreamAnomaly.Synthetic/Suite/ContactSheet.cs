using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Synthetic.Suite;

/// <summary>Tiles captioned frames into one PNG (4 per row, each at least 128 px, caption strip below).</summary>
internal static class ContactSheet
{
    private const int Columns = 4, MinTile = 128, Caption = 18;

    public static void Write(string path, IReadOnlyList<(string Caption, Frame Frame)> tiles)
    {
        if (tiles.Count == 0)
        {
            return;
        }

        var tile = Math.Max(MinTile, tiles.Max(t => Math.Max(t.Frame.Width, t.Frame.Height)));
        var rows = (tiles.Count + Columns - 1) / Columns;
        using var sheet = new Mat(rows * (tile + Caption), Columns * tile, MatType.CV_8UC3, Scalar.All(32));
        for (var i = 0; i < tiles.Count; i++)
        {
            var (x, y) = (i % Columns * tile, i / Columns * (tile + Caption));
            using var frame = ImageCodec.ToMat(tiles[i].Frame);
            using var resized = new Mat();
            Cv2.Resize(frame, resized, new Size(tile, tile), interpolation: InterpolationFlags.Nearest);
            using (var target = new Mat(sheet, new Rect(x, y, tile, tile)))
            {
                resized.CopyTo(target);
            }

            Cv2.PutText(sheet, Fit(tiles[i].Caption), new Point(x + 3, y + tile + 13), HersheyFonts.HersheySimplex, 0.3, Scalar.All(235), 1, LineTypes.AntiAlias);
        }

        Cv2.ImWrite(path, sheet);
    }

    // About 24 characters fit under a 128 px tile at this font size.
    private static string Fit(string caption) => caption.Length <= 24 ? caption : caption[..23] + "~";
}
