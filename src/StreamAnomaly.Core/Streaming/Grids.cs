using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Streaming;

/// <summary>
/// A residual map reduced to a small grid for the wire (a few hundred bytes instead of a frame):
/// each cell is the SUM of the residual values it covers, quantised to a byte:
/// <c>value = Cells[i] / 255 * Scale</c>. Sums (not means) keep the grid's total equal to the
/// map's total, so scores computed on the grid match scores computed on the map up to quantisation.
/// </summary>
/// <param name="Width">Grid width in cells, &gt; 0.</param>
/// <param name="Height">Grid height in cells, &gt; 0.</param>
/// <param name="Scale">Value of a cell byte of 255 (the largest cell sum), &gt;= 0 and finite.</param>
/// <param name="Cells">Row-major quantised cell sums, Width * Height bytes.</param>
public sealed record ResidualGrid(int Width, int Height, float Scale, byte[] Cells)
{
    /// <summary>Cell value i (a sum of residual values).</summary>
    public double this[int i] => Cells[i] / 255.0 * Scale;

    /// <summary>Sum over all cells.</summary>
    public double Total() => Cells.Sum(static c => (double)c) / 255.0 * Scale;

    /// <summary>The largest cell.</summary>
    public double Peak() => Cells.Max() / 255.0 * Scale;

    /// <summary>Sum over the cells, each weighted by the fraction of it NOT covered by <paramref name="ignore"/>.</summary>
    public double TotalOutside(MaskGrid ignore) => Outside(ignore).Sum() / 255.0 * Scale;

    /// <summary>The largest cell, each weighted by the fraction of it NOT covered by <paramref name="ignore"/>.</summary>
    public double PeakOutside(MaskGrid ignore) => Outside(ignore).Max() / 255.0 * Scale;

    private IEnumerable<double> Outside(MaskGrid ignore)
    {
        ArgumentNullException.ThrowIfNull(ignore);
        if (ignore.Width != Width || ignore.Height != Height)
        {
            throw new ArgumentException($"mask grid {ignore.Width}x{ignore.Height} does not match residual grid {Width}x{Height}", nameof(ignore));
        }

        return Cells.Select((c, i) => c * (1.0 - (ignore.Coverage[i] / 255.0)));
    }

    /// <summary>Reduces <paramref name="map"/> to a width x height grid of cell sums (cells split the map as evenly as integer bounds allow).</summary>
    public static ResidualGrid From(AnomalyMap map, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(map);
        var sums = GridMath.CellSums(map.Values, map.Width, map.Height, width, height);
        var max = sums.Length == 0 ? 0 : sums.Max();
        var scale = max > 0 && double.IsFinite(max) ? (float)max : 0f;
        var cells = new byte[sums.Length];
        for (var i = 0; i < sums.Length; i++)
        {
            cells[i] = scale > 0 ? (byte)Math.Round(Math.Clamp(sums[i] / scale, 0, 1) * 255) : (byte)0;
        }

        return new ResidualGrid(width, height, scale, cells);
    }
}

/// <summary>
/// A binary mask (pixels a detector explains as normal: a worker's hand, the background) reduced
/// to a grid: each cell holds the fraction of its pixels that are masked, 0..255 for 0..1.
/// </summary>
public sealed record MaskGrid(int Width, int Height, byte[] Coverage)
{
    /// <summary>An all-zero (nothing ignored) grid.</summary>
    public static MaskGrid Empty(int width, int height) => new(width, height, new byte[width * height]);

    /// <summary>Cell-wise maximum of two grids of the same size (the union of what either ignores).</summary>
    public MaskGrid Union(MaskGrid other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Width != Width || other.Height != Height)
        {
            throw new ArgumentException($"mask grid {other.Width}x{other.Height} does not match {Width}x{Height}", nameof(other));
        }

        var cells = new byte[Coverage.Length];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = Math.Max(Coverage[i], other.Coverage[i]);
        }

        return new MaskGrid(Width, Height, cells);
    }

    /// <summary>Reduces <paramref name="mask"/> to a width x height grid of covered fractions.</summary>
    public static MaskGrid From(BinaryMask mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var values = mask.Data.Select(static v => v ? 1f : 0f).ToArray();
        var sums = GridMath.CellSums(values, mask.Width, mask.Height, width, height);
        var areas = GridMath.CellSums(Enumerable.Repeat(1f, values.Length).ToArray(), mask.Width, mask.Height, width, height);
        var cells = new byte[sums.Length];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = areas[i] > 0 ? (byte)Math.Round(sums[i] / areas[i] * 255) : (byte)0;
        }

        return new MaskGrid(width, height, cells);
    }
}

internal static class GridMath
{
    /// <summary>Sums of a row-major source image over a gw x gh grid of cells (cell bounds floor(i * size / g)).</summary>
    public static double[] CellSums(float[] values, int width, int height, int gw, int gh)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gw);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gh);
        if (gw > width || gh > height)
        {
            throw new ArgumentException($"a {gw}x{gh} grid is finer than the {width}x{height} image");
        }

        var sums = new double[gw * gh];
        for (var y = 0; y < height; y++)
        {
            var cy = (int)((long)y * gh / height);
            for (var x = 0; x < width; x++)
            {
                var cx = (int)((long)x * gw / width);
                sums[(cy * gw) + cx] += values[(y * width) + x];
            }
        }

        return sums;
    }
}
