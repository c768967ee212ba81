using StreamAnomaly.Core.Imaging;

namespace StreamAnomaly.Core.Evaluation;

/// <summary>
/// Pixel-level figures of anomaly maps against exact anomaly masks, as MVTec AD reports them: the
/// pixel AUROC over every pixel of every frame, and PRO, the mean overlap of each connected anomaly
/// region with the pixels above a threshold, integrated over the false-positive rate of the normal
/// pixels from 0 to <c>maxFpr</c> (0.3) and divided by it. Maps and masks are compared on a fixed
/// <see cref="Grid"/> x <see cref="Grid"/> raster: maps are area-averaged (or taken nearest, when
/// smaller) and masks sampled nearest, so detectors of any input size are measured alike.
/// </summary>
public sealed class PixelMetrics
{
    private readonly List<float> scores = [];
    private readonly List<int> regions = []; // 0: normal pixel; r > 0: pixel of anomaly region r
    private readonly List<int> regionSizes = [0];
    private readonly List<string?> frameCategories = []; // null: a normal frame

    /// <param name="grid">Side of the raster maps and masks are compared on.</param>
    public PixelMetrics(int grid = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grid, 1);
        Grid = grid;
    }

    /// <summary>Side of the comparison raster.</summary>
    public int Grid { get; }

    /// <summary>Pixels added so far.</summary>
    public int Pixels => scores.Count;

    /// <summary>Connected anomaly regions added so far (8-connected, per frame).</summary>
    public int Regions => regionSizes.Count - 1;

    /// <summary>
    /// Adds one frame: its anomaly map, its exact anomaly mask (null or empty: no anomalous pixel)
    /// and, for an anomalous frame, its category (null for a normal frame).
    /// </summary>
    public void Add(AnomalyMap map, BinaryMask? anomaly, string? category = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        frameCategories.Add(category);
        scores.AddRange(Resample(map, Grid));
        var truth = anomaly is null ? new bool[Grid * Grid] : anomaly.Width == Grid && anomaly.Height == Grid ? anomaly.Data : anomaly.Resized(Grid, Grid).Data;
        regions.AddRange(Label(truth));
    }

    /// <summary>AUROC of the pixels' scores against their labels; null without both normal and anomalous pixels.</summary>
    public double? Auroc() => Auroc(static _ => true);

    /// <summary>
    /// The pixel AUROC of each anomaly category: the pixels of its frames and of every normal frame
    /// (as the frame-level AUROC per category ranks its frames against every normal frame), by category.
    /// </summary>
    public IReadOnlyDictionary<string, double?> CategoryAurocs() =>
        frameCategories.OfType<string>().Distinct().Order(StringComparer.Ordinal)
            .ToDictionary(c => c, c => Auroc(frame => frameCategories[frame] is null || frameCategories[frame] == c));

    private double? Auroc(Func<int, bool> includeFrame)
    {
        var plane = Grid * Grid;
        var picked = Enumerable.Range(0, frameCategories.Count).Where(includeFrame).SelectMany(f => Enumerable.Range(f * plane, plane)).ToArray();
        var labels = picked.Select(p => regions[p] > 0 ? 1 : 0).ToArray();
        return labels.Contains(0) && labels.Contains(1) ? BinaryMetrics.Auroc(picked.Select(p => (double)scores[p]).ToArray(), labels) : null;
    }

    /// <summary>
    /// The area under the per-region-overlap curve up to <paramref name="maxFpr"/>, divided by it
    /// (1 = every region fully found before any normal pixel); null without regions or normal pixels.
    /// </summary>
    public double? Pro(double maxFpr = 0.3)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFpr);
        var normal = regions.Count(static r => r == 0);
        if (Regions == 0 || normal == 0)
        {
            return null;
        }

        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        var (area, previousFpr, previousPro, overlap, falsePositives) = (0.0, 0.0, 0.0, 0.0, 0);
        for (var k = 0; k < order.Length;)
        {
            var level = scores[order[k]];
            for (; k < order.Length && scores[order[k]] == level; k++)
            {
                var r = regions[order[k]];
                if (r == 0)
                {
                    falsePositives++;
                }
                else
                {
                    overlap += 1.0 / regionSizes[r];
                }
            }

            var (fpr, pro) = ((double)falsePositives / normal, overlap / Regions);
            if (fpr >= maxFpr)
            {
                var cut = previousPro + ((pro - previousPro) * (maxFpr - previousFpr) / (fpr - previousFpr));
                return (area + ((maxFpr - previousFpr) * (previousPro + cut) / 2)) / maxFpr;
            }

            area += (fpr - previousFpr) * (previousPro + pro) / 2;
            (previousFpr, previousPro) = (fpr, pro);
        }

        return area / maxFpr;
    }

    /// <summary>The map on the grid: the mean of the source pixels whose centres fall in each cell, or the nearest one.</summary>
    private static float[] Resample(AnomalyMap map, int grid)
    {
        var result = new float[grid * grid];
        for (var y = 0; y < grid; y++)
        {
            var (y0, y1) = Span(y, grid, map.Height);
            for (var x = 0; x < grid; x++)
            {
                var (x0, x1) = Span(x, grid, map.Width);
                var sum = 0.0;
                for (var sy = y0; sy < y1; sy++)
                {
                    for (var sx = x0; sx < x1; sx++)
                    {
                        sum += map.Values[(sy * map.Width) + sx];
                    }
                }

                result[(y * grid) + x] = (float)(sum / ((y1 - y0) * (x1 - x0)));
            }
        }

        return result;
    }

    /// <summary>Source indices [from, to) whose centres lie in target cell <paramref name="cell"/>; at least the nearest one.</summary>
    private static (int From, int To) Span(int cell, int cells, int source)
    {
        var scale = (double)source / cells;
        var from = (int)Math.Ceiling((cell * scale) - 0.5);
        var to = (int)Math.Ceiling(((cell + 1) * scale) - 0.5);
        if (to <= from)
        {
            from = Math.Clamp((int)((cell + 0.5) * scale), 0, source - 1);
            to = from + 1;
        }

        return (Math.Clamp(from, 0, source - 1), Math.Clamp(to, 1, source));
    }

    /// <summary>8-connected components of one frame's mask, numbered after the regions seen before; 0 outside.</summary>
    private int[] Label(bool[] truth)
    {
        var labels = new int[truth.Length];
        var stack = new Stack<int>();
        for (var start = 0; start < truth.Length; start++)
        {
            if (!truth[start] || labels[start] != 0)
            {
                continue;
            }

            var region = regionSizes.Count;
            regionSizes.Add(0);
            labels[start] = region;
            stack.Push(start);
            while (stack.TryPop(out var p))
            {
                regionSizes[region]++;
                var (px, py) = (p % Grid, p / Grid);
                for (var dy = -1; dy <= 1; dy++)
                {
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        var (nx, ny) = (px + dx, py + dy);
                        var q = (ny * Grid) + nx;
                        if (nx >= 0 && ny >= 0 && nx < Grid && ny < Grid && truth[q] && labels[q] == 0)
                        {
                            labels[q] = region;
                            stack.Push(q);
                        }
                    }
                }
            }
        }

        return labels;
    }
}
