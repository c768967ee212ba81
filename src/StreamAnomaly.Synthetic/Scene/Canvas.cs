using System.Runtime.InteropServices;
using OpenCvSharp;
using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Synthetic.Scene;

/// <summary>
/// Which group of scene objects wrote a pixel. The value is also the group's colour tag (see
/// <see cref="Canvas"/>): two groups never produce the same pixel value.
/// </summary>
internal enum Layer : byte
{
    Background = 0,
    Person = 1,
    Conveyor = 2,
    Tray = 3,
    Part = 4,
    Robot = 5,
    Hand = 6,
    Foreign = 7,
}

/// <summary>
/// The clean (noise-free) image of one render plus, per pixel, the <see cref="Layer"/> of the topmost
/// object that wrote it. Shapes are rasterised by OpenCV into a scratch mask with sub-pixel
/// coordinates (<see cref="Shift"/> fractional bits) and <see cref="LineTypes.Link8"/>, never
/// antialiased, then composited opaquely.
/// <para>
/// Exactness invariant: every composited colour carries its layer's tag in the two low bits of the
/// green and red channels (G mod 4 = layer mod 4, R mod 4 = layer div 4), so a pixel written by one
/// layer always differs from any pixel of another layer. Because composition is opaque and the
/// drawn colour never depends on what is beneath, removing a layer changes exactly the pixels
/// where that layer is topmost: its ownership mask. (A "nudge only when equal to what is beneath"
/// rule would not be enough: an object drawn above would then depend on the removed one.)
/// </para>
/// </summary>
internal sealed class Canvas : IDisposable
{
    /// <summary>Fractional bits of OpenCV fixed-point coordinates (1/16 pixel).</summary>
    public const int Shift = 4;

    private const double One = 1 << Shift;
    private readonly Mat _scratch;
    private readonly byte[] _row;

    public Canvas(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 8);
        Width = width;
        Height = height;
        Bgr = new byte[width * height * 3];
        Owner = new byte[width * height];
        _scratch = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        _row = new byte[width];
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>min(Width, Height): the unit for object sizes, so shapes keep their proportions.</summary>
    public double Unit => Math.Min(Width, Height);

    /// <summary>Clean pixels, B G R interleaved.</summary>
    public byte[] Bgr { get; }

    /// <summary>Topmost <see cref="Layer"/> per pixel.</summary>
    public byte[] Owner { get; }

    /// <summary>Pixel coordinates of a point given as fractions of the width and height.</summary>
    public Point2d At(double fx, double fy) => new(fx * Width, fy * Height);

    /// <summary>The colour with the layer's tag in the low bits of G and R, kept inside [Colour.Min, Colour.Max].</summary>
    public static Colour Tag(Colour colour, Layer layer)
    {
        var id = (int)layer;
        return new Colour(colour.B, WithLowBits(colour.G, id & 3), WithLowBits(colour.R, id >> 2));
    }

    /// <summary>Writes the pixel at (x, y) with a tagged colour (for per-pixel layers such as the wall).</summary>
    public void SetPixel(int x, int y, Colour colour, Layer layer)
    {
        var tagged = Tag(colour, layer);
        var i = (y * Width) + x;
        Bgr[i * 3] = (byte)tagged.B;
        Bgr[(i * 3) + 1] = (byte)tagged.G;
        Bgr[(i * 3) + 2] = (byte)tagged.R;
        Owner[i] = (byte)layer;
    }

    public void Polygon(Layer layer, Colour colour, params Point2d[] points)
    {
        var bounds = Bounds(points, 0);
        Draw(layer, colour, bounds, m => Cv2.FillPoly(m, [points.Select(Fixed).ToArray()], Scalar.All(255), LineTypes.Link8, Shift));
    }

    public void Circle(Layer layer, Colour colour, Point2d centre, double radius)
    {
        var bounds = Bounds([centre], radius);
        Draw(layer, colour, bounds, m => Cv2.Circle(m, Fixed(centre), FixedLength(radius), Scalar.All(255), -1, LineTypes.Link8, Shift));
    }

    /// <summary>A filled ellipse with semi-axes (<paramref name="ax"/>, <paramref name="ay"/>) in pixels, rotated by <paramref name="angleDegrees"/>.</summary>
    public void Ellipse(Layer layer, Colour colour, Point2d centre, double ax, double ay, double angleDegrees)
    {
        var bounds = Bounds([centre], Math.Max(ax, ay));
        Draw(layer, colour, bounds, m => Cv2.Ellipse(
            m, Fixed(centre), new Size(FixedLength(ax), FixedLength(ay)), angleDegrees, 0, 360, Scalar.All(255), -1, LineTypes.Link8, Shift));
    }

    /// <summary>A ring: the disc of <paramref name="outer"/> radius minus the disc of <paramref name="inner"/> radius.</summary>
    public void Ring(Layer layer, Colour colour, Point2d centre, double outer, double inner)
    {
        var bounds = Bounds([centre], outer);
        Draw(layer, colour, bounds, m =>
        {
            Cv2.Circle(m, Fixed(centre), FixedLength(outer), Scalar.All(255), -1, LineTypes.Link8, Shift);
            Cv2.Circle(m, Fixed(centre), FixedLength(inner), Scalar.All(0), -1, LineTypes.Link8, Shift);
        });
    }

    /// <summary>A stadium: the segment a-b thickened by <paramref name="radius"/> pixels with round ends.</summary>
    public void Capsule(Layer layer, Colour colour, Point2d a, Point2d b, double radius)
    {
        var bounds = Bounds([a, b], radius);
        var quad = CapsuleQuad(a, b, radius);
        Draw(layer, colour, bounds, m =>
        {
            if (quad is not null)
            {
                Cv2.FillConvexPoly(m, quad.Select(Fixed).ToArray(), Scalar.All(255), LineTypes.Link8, Shift);
            }

            Cv2.Circle(m, Fixed(a), FixedLength(radius), Scalar.All(255), -1, LineTypes.Link8, Shift);
            Cv2.Circle(m, Fixed(b), FixedLength(radius), Scalar.All(255), -1, LineTypes.Link8, Shift);
        });
    }

    /// <summary>A rectangle of size (w, h) pixels centred on <paramref name="centre"/>, rotated by <paramref name="angleRadians"/>.</summary>
    public void RotatedRect(Layer layer, Colour colour, Point2d centre, double w, double h, double angleRadians)
    {
        var (c, s) = (Math.Cos(angleRadians), Math.Sin(angleRadians));
        Point2d Corner(double dx, double dy) => new(centre.X + (dx * c) - (dy * s), centre.Y + (dx * s) + (dy * c));
        Polygon(layer, colour, Corner(-w / 2, -h / 2), Corner(w / 2, -h / 2), Corner(w / 2, h / 2), Corner(-w / 2, h / 2));
    }

    /// <summary>The pixels owned by <paramref name="layer"/>.</summary>
    public BinaryMask MaskOf(Layer layer)
    {
        var data = new bool[Owner.Length];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = Owner[i] == (byte)layer;
        }

        return new BinaryMask(Width, Height, data);
    }

    /// <summary>Pixels where this canvas's clean image differs from <paramref name="other"/>'s (same size).</summary>
    public BinaryMask DiffersFrom(Canvas other)
    {
        var data = new bool[Owner.Length];
        for (var i = 0; i < data.Length; i++)
        {
            var j = i * 3;
            data[i] = Bgr[j] != other.Bgr[j] || Bgr[j + 1] != other.Bgr[j + 1] || Bgr[j + 2] != other.Bgr[j + 2];
        }

        return new BinaryMask(Width, Height, data);
    }

    /// <summary>
    /// The final frame: clean pixels + a global additive <paramref name="offset"/> (|offset| &lt;= 8) +
    /// per-pixel, per-channel Gaussian noise (sigma 3, rounded, clipped to +-10) from <paramref name="noise"/>
    /// (null = no noise). Both are additive and never clip, so they preserve every pixel difference.
    /// </summary>
    public Frame ToFrame(int offset, Random? noise)
    {
        if (Math.Abs(offset) > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "lighting offset must stay within +-8");
        }

        var bgr = new byte[Bgr.Length];
        for (var i = 0; i < bgr.Length; i += 2)
        {
            var (n0, n1) = noise is null ? (0, 0) : GaussianPair(noise);
            bgr[i] = (byte)(Bgr[i] + offset + n0);
            if (i + 1 < bgr.Length)
            {
                bgr[i + 1] = (byte)(Bgr[i + 1] + offset + n1);
            }
        }

        return new Frame(Width, Height, bgr);
    }

    public void Dispose() => _scratch.Dispose();

    private static (int, int) GaussianPair(Random random)
    {
        const double Sigma = 3.0;
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        var radius = Sigma * Math.Sqrt(-2.0 * Math.Log(u1));
        var angle = 2.0 * Math.PI * u2;
        return (Math.Clamp((int)Math.Round(radius * Math.Cos(angle)), -10, 10), Math.Clamp((int)Math.Round(radius * Math.Sin(angle)), -10, 10));
    }

    private static int WithLowBits(int value, int bits)
    {
        var v = (value & ~3) | bits;
        if (v < Colour.Min)
        {
            v += 4;
        }

        if (v > Colour.Max)
        {
            v -= 4;
        }

        return v;
    }

    private static Point Fixed(Point2d p) => new((int)Math.Round(p.X * One), (int)Math.Round(p.Y * One));

    private static int FixedLength(double length) => Math.Max(1, (int)Math.Round(length * One));

    private static Point2d[]? CapsuleQuad(Point2d a, Point2d b, double radius)
    {
        var (dx, dy) = (b.X - a.X, b.Y - a.Y);
        var length = Math.Sqrt((dx * dx) + (dy * dy));
        if (length < 1e-9)
        {
            return null;
        }

        var (nx, ny) = (-dy / length * radius, dx / length * radius);
        return [new(a.X + nx, a.Y + ny), new(b.X + nx, b.Y + ny), new(b.X - nx, b.Y - ny), new(a.X - nx, a.Y - ny)];
    }

    private Rect Bounds(IEnumerable<Point2d> points, double margin)
    {
        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        foreach (var p in points)
        {
            (x0, y0, x1, y1) = (Math.Min(x0, p.X), Math.Min(y0, p.Y), Math.Max(x1, p.X), Math.Max(y1, p.Y));
        }

        var left = Math.Clamp((int)Math.Floor(x0 - margin) - 2, 0, Width);
        var top = Math.Clamp((int)Math.Floor(y0 - margin) - 2, 0, Height);
        var right = Math.Clamp((int)Math.Ceiling(x1 + margin) + 3, 0, Width);
        var bottom = Math.Clamp((int)Math.Ceiling(y1 + margin) + 3, 0, Height);
        return new Rect(left, top, right - left, bottom - top);
    }

    private void Draw(Layer layer, Colour colour, Rect bounds, Action<Mat> rasterise)
    {
        if (bounds.Width <= 0 || bounds.Height <= 0)
        {
            return;
        }

        rasterise(_scratch);
        var tagged = Tag(colour, layer);
        var step = (int)_scratch.Step();
        for (var y = bounds.Top; y < bounds.Bottom; y++)
        {
            Marshal.Copy(_scratch.Data + (y * step) + bounds.Left, _row, 0, bounds.Width);
            for (var k = 0; k < bounds.Width; k++)
            {
                if (_row[k] == 0)
                {
                    continue;
                }

                var i = (y * Width) + bounds.Left + k;
                Bgr[i * 3] = (byte)tagged.B;
                Bgr[(i * 3) + 1] = (byte)tagged.G;
                Bgr[(i * 3) + 2] = (byte)tagged.R;
                Owner[i] = (byte)layer;
            }
        }

        // Clear all of it (cheap): a shape that rasterised past its estimated bounds must not leak into the next one.
        _scratch.SetTo(Scalar.All(0));
    }
}
