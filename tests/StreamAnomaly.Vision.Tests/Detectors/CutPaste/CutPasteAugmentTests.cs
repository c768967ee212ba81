using StreamAnomaly.Vision.Detectors.CutPaste;

namespace StreamAnomaly.Vision.Tests.Detectors.CutPaste;

public sealed class CutPasteAugmentTests
{
    private const int Size = 64;

    private static byte[] Noise(int seed)
    {
        var bytes = new byte[Size * Size * 3];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Pixel(byte[] bgr, int x, int y) => bgr.AsSpan(((y * Size) + x) * 3, 3).ToArray();

    [Fact]
    public void An_unturned_piece_without_jitter_is_an_exact_copy_of_its_source_and_nothing_else_changes()
    {
        var image = Noise(1);
        var piece = new PastedPiece(SourceX: 5, SourceY: 7, Width: 10, Height: 6, TargetX: 40, TargetY: 30, Angle: 0, Brightness: 1, Contrast: 1, Gains: [1, 1, 1]);

        var pasted = CutPasteAugment.Apply(image, Size, piece);

        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var inTarget = x >= 35 && x < 45 && y >= 27 && y < 33;
                var expected = inTarget ? Pixel(image, x - 35 + 5, y - 27 + 7) : Pixel(image, x, y);
                Assert.Equal(expected, Pixel(pasted, x, y));
            }
        }
    }

    [Fact]
    public void A_turned_strip_covers_about_its_own_area_and_carries_only_source_colours()
    {
        var image = new byte[Size * Size * 3];
        for (var y = 10; y < 40; y++)
        {
            for (var x = 20; x < 24; x++)
            {
                image[(((y * Size) + x) * 3) + 1] = 255; // a green strip 4 x 30 on black
            }
        }

        var piece = new PastedPiece(SourceX: 20, SourceY: 10, Width: 4, Height: 30, TargetX: 45, TargetY: 32, Angle: Math.PI / 5, Brightness: 1, Contrast: 1, Gains: [1, 1, 1]);

        var pasted = CutPasteAugment.Apply(image, Size, piece);

        var green = Enumerable.Range(0, Size * Size).Count(p => pasted[(p * 3) + 1] == 255 && p % Size >= 30);
        Assert.InRange(green, 120 - 20, 120 + 20);
        Assert.All(Enumerable.Range(0, Size * Size), p => Assert.True(pasted[(p * 3) + 1] is 0 or 255));
    }

    [Fact]
    public void Jitter_scales_the_piece_around_its_mean_and_clamps()
    {
        var image = Noise(2);
        var plain = new PastedPiece(0, 0, 8, 8, 40, 40, 0, 1, 1, [1, 1, 1]);
        var brighter = plain with { Brightness = 1.1, Gains = [1, 1.05, 0.95] };

        var a = CutPasteAugment.Apply(image, Size, plain);
        var b = CutPasteAugment.Apply(image, Size, brighter);

        for (var c = 0; c < 3; c++)
        {
            var expected = Math.Clamp(Math.Round(a[(((40 * Size) + 40) * 3) + c] * 1.1 * brighter.Gains[c]), 0, 255);
            Assert.Equal(expected, b[(((40 * Size) + 40) * 3) + c]);
        }
    }

    [Fact]
    public void Drawn_pieces_keep_to_the_paper_s_ranges_and_fit_the_frame()
    {
        const int side = 256;
        var random = new Random(3);
        for (var i = 0; i < 300; i++)
        {
            var cut = CutPasteAugment.CutPaste(side, random, jitter: true);
            var area = cut.Width * cut.Height / (double)(side * side);
            Assert.InRange(area, 0.018, 0.155);
            Assert.InRange(cut.Width / (double)cut.Height, 0.28, 3.5);
            Assert.Equal(0, cut.Angle);
            Assert.InRange(cut.Brightness, 0.9, 1.1);

            var scar = CutPasteAugment.Scar(side, random, jitter: false);
            Assert.InRange(scar.Width, 2, 16);
            Assert.InRange(scar.Height, 10, 25);
            Assert.InRange(scar.Angle, -Math.PI / 4, Math.PI / 4);
            Assert.Equal([1.0, 1.0, 1.0], scar.Gains);

            foreach (var piece in (PastedPiece[])[cut, scar])
            {
                var (halfX, halfY) = piece.HalfExtent;
                Assert.InRange(piece.TargetX - halfX, -1e-9, side);
                Assert.InRange(piece.TargetX + halfX, 0, side + 1e-9);
                Assert.InRange(piece.TargetY - halfY, -1e-9, side);
                Assert.InRange(piece.TargetY + halfY, 0, side + 1e-9);
                Assert.InRange(piece.SourceX + piece.Width, 1, side);
                Assert.InRange(piece.SourceY + piece.Height, 1, side);
            }
        }
    }
}
