namespace StreamAnomaly.Vision.Detectors.CutPaste;

/// <summary>The three classes CutPaste's classifier tells apart.</summary>
public enum CutPasteClass
{
    /// <summary>A frame as recorded.</summary>
    Normal = 0,

    /// <summary>A frame with a rectangle of itself pasted elsewhere.</summary>
    CutPaste = 1,

    /// <summary>A frame with a thin, long, rotated strip of itself pasted elsewhere.</summary>
    Scar = 2,
}

/// <summary>
/// One pasted piece: a rectangle cut from the image, turned about its centre and pasted elsewhere
/// with its colours jittered: each value v of channel c becomes
/// <c>((v - m) * Contrast + m) * Brightness * Gains[c]</c>, m the piece's mean, clamped to 0-255.
/// Coordinates are continuous pixel coordinates (a pixel's centre at +0.5).
/// </summary>
/// <param name="SourceX">Left column of the cut rectangle.</param>
/// <param name="SourceY">Top row of the cut rectangle.</param>
/// <param name="Width">Width of the cut rectangle, pixels.</param>
/// <param name="Height">Height of the cut rectangle, pixels.</param>
/// <param name="TargetX">Horizontal position of the pasted piece's centre.</param>
/// <param name="TargetY">Vertical position of the pasted piece's centre.</param>
/// <param name="Angle">Turn of the piece, radians.</param>
/// <param name="Brightness">Factor on every value.</param>
/// <param name="Contrast">Factor on the distance to the piece's mean.</param>
/// <param name="Gains">One factor per BGR channel (a colour shift).</param>
public sealed record PastedPiece(int SourceX, int SourceY, int Width, int Height, double TargetX, double TargetY, double Angle, double Brightness, double Contrast, double[] Gains)
{
    /// <summary>Half the sides of the axis-aligned box the turned piece covers.</summary>
    public (double X, double Y) HalfExtent
    {
        get
        {
            var (cos, sin) = (Math.Abs(Math.Cos(Angle)), Math.Abs(Math.Sin(Angle)));
            return (((Width * cos) + (Height * sin)) / 2, ((Width * sin) + (Height * cos)) / 2);
        }
    }
}

/// <summary>
/// CutPaste's synthetic defects (Li, Sohn, Yoon and Pfister, CVPR 2021) on BGR images (HWC bytes,
/// square, <c>size x size</c>): a piece of the image itself, cut out and pasted at another place, so
/// that everything in it is normal texture and only its edges and position are wrong.
/// <see cref="CutPaste"/>: a rectangle of 2-15 % of the image area, aspect ratio log-uniform in
/// [0.3, 3.3]. <see cref="Scar"/>: a strip 2-16 px wide and 10-25 px long at the paper's 256 px
/// (scaled with the side), turned by up to 45 degrees either way. Both optionally colour-jittered
/// by up to 10 % (brightness, contrast and each channel's gain), as the paper's colour jitter.
/// </summary>
public static class CutPasteAugment
{
    private const double MaxJitter = 0.1;

    /// <summary>Draws a CutPaste rectangle for a <paramref name="size"/>-pixel image.</summary>
    public static PastedPiece CutPaste(int size, Random random, bool jitter)
    {
        ArgumentNullException.ThrowIfNull(random);
        var area = size * size * Uniform(random, 0.02, 0.15);
        var aspect = Math.Exp(Uniform(random, Math.Log(0.3), Math.Log(1 / 0.3)));
        var width = Math.Clamp((int)Math.Round(Math.Sqrt(area * aspect)), 1, size);
        var height = Math.Clamp((int)Math.Round(Math.Sqrt(area / aspect)), 1, size);
        return Place(size, width, height, 0, random, jitter);
    }

    /// <summary>Draws a CutPaste-scar strip for a <paramref name="size"/>-pixel image.</summary>
    public static PastedPiece Scar(int size, Random random, bool jitter)
    {
        ArgumentNullException.ThrowIfNull(random);
        var scale = size / 256.0;
        var width = Math.Clamp((int)Math.Round(Uniform(random, 2, 16) * scale), 1, size);
        var length = Math.Clamp((int)Math.Round(Uniform(random, 10, 25) * scale), 1, size);
        return Place(size, width, length, Uniform(random, -Math.PI / 4, Math.PI / 4), random, jitter);
    }

    /// <summary>A piece of <paramref name="kind"/> (not <see cref="CutPasteClass.Normal"/>) for a <paramref name="size"/>-pixel image.</summary>
    public static PastedPiece Draw(CutPasteClass kind, int size, Random random, bool jitter) => kind switch
    {
        CutPasteClass.CutPaste => CutPaste(size, random, jitter),
        CutPasteClass.Scar => Scar(size, random, jitter),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a normal frame gets no piece"),
    };

    /// <summary>
    /// A copy of <paramref name="bgr"/> (HWC, <paramref name="size"/> x <paramref name="size"/>) with
    /// <paramref name="piece"/> pasted: every pixel whose centre lies inside the turned piece takes the
    /// (jittered) value of the nearest source pixel; the others are unchanged.
    /// </summary>
    public static byte[] Apply(ReadOnlySpan<byte> bgr, int size, PastedPiece piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (bgr.Length != size * size * 3)
        {
            throw new ArgumentException($"expected {size}x{size} BGR bytes, got {bgr.Length}", nameof(bgr));
        }

        if (piece.SourceX < 0 || piece.SourceY < 0 || piece.SourceX + piece.Width > size || piece.SourceY + piece.Height > size)
        {
            throw new ArgumentException($"the source rectangle {piece.Width}x{piece.Height} at ({piece.SourceX}, {piece.SourceY}) leaves the {size} px image", nameof(piece));
        }

        var output = bgr.ToArray();
        var mean = Mean(bgr, size, piece);
        var (cos, sin) = (Math.Cos(piece.Angle), Math.Sin(piece.Angle));
        var (halfX, halfY) = piece.HalfExtent;
        var (sourceCentreX, sourceCentreY) = (piece.SourceX + (piece.Width / 2.0), piece.SourceY + (piece.Height / 2.0));
        var (x0, x1) = (Math.Max(0, (int)Math.Floor(piece.TargetX - halfX)), Math.Min(size - 1, (int)Math.Ceiling(piece.TargetX + halfX)));
        var (y0, y1) = (Math.Max(0, (int)Math.Floor(piece.TargetY - halfY)), Math.Min(size - 1, (int)Math.Ceiling(piece.TargetY + halfY)));
        for (var y = y0; y <= y1; y++)
        {
            for (var x = x0; x <= x1; x++)
            {
                // The pixel centre in the piece's own (unturned) frame, relative to its centre.
                var (dx, dy) = (x + 0.5 - piece.TargetX, y + 0.5 - piece.TargetY);
                var (u, v) = ((dx * cos) + (dy * sin), (-dx * sin) + (dy * cos));
                if (u < -piece.Width / 2.0 || u >= piece.Width / 2.0 || v < -piece.Height / 2.0 || v >= piece.Height / 2.0)
                {
                    continue;
                }

                var sx = Math.Clamp((int)Math.Floor(sourceCentreX + u), piece.SourceX, piece.SourceX + piece.Width - 1);
                var sy = Math.Clamp((int)Math.Floor(sourceCentreY + v), piece.SourceY, piece.SourceY + piece.Height - 1);
                for (var c = 0; c < 3; c++)
                {
                    var value = bgr[(((sy * size) + sx) * 3) + c];
                    var jittered = (((value - mean) * piece.Contrast) + mean) * piece.Brightness * piece.Gains[c];
                    output[(((y * size) + x) * 3) + c] = (byte)Math.Clamp(Math.Round(jittered), 0, 255);
                }
            }
        }

        return output;
    }

    /// <summary>A piece of the given shape cut anywhere in the image and pasted anywhere its turned box fits.</summary>
    private static PastedPiece Place(int size, int width, int height, double angle, Random random, bool jitter)
    {
        var (sourceX, sourceY) = (random.Next(size - width + 1), random.Next(size - height + 1));
        var draft = new PastedPiece(sourceX, sourceY, width, height, 0, 0, angle, 1, 1, [1, 1, 1]);
        var (halfX, halfY) = draft.HalfExtent;
        var targetX = halfX >= size / 2.0 ? size / 2.0 : Uniform(random, halfX, size - halfX);
        var targetY = halfY >= size / 2.0 ? size / 2.0 : Uniform(random, halfY, size - halfY);
        return jitter
            ? draft with
            {
                TargetX = targetX,
                TargetY = targetY,
                Brightness = Jitter(random),
                Contrast = Jitter(random),
                Gains = [Jitter(random), Jitter(random), Jitter(random)],
            }
            : draft with { TargetX = targetX, TargetY = targetY };
    }

    private static double Jitter(Random random) => Uniform(random, 1 - MaxJitter, 1 + MaxJitter);

    private static double Uniform(Random random, double low, double high) => low + (random.NextDouble() * (high - low));

    /// <summary>Mean value of the source rectangle over its pixels and channels.</summary>
    private static double Mean(ReadOnlySpan<byte> bgr, int size, PastedPiece piece)
    {
        var sum = 0L;
        for (var y = piece.SourceY; y < piece.SourceY + piece.Height; y++)
        {
            foreach (var value in bgr.Slice(((y * size) + piece.SourceX) * 3, piece.Width * 3))
            {
                sum += value;
            }
        }

        return sum / (double)(piece.Width * piece.Height * 3);
    }
}
