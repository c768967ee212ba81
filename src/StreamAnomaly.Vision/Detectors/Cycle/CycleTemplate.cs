using StreamAnomaly.Core.Temporal;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Cycle;

/// <summary>
/// The machine's normal cycle as the cycle-phase detector learned it, a module so it travels in the
/// bundle's weights: buffer <c>template</c> [L, cells, C], the mean cell features of the training
/// frames in each of the cycle's L phase bins, buffer <c>weights</c> [cells], how much each cell
/// tells phases apart (they sum to 1), and buffer <c>background</c> [cells], 1 for the cells that
/// hardly follow the cycle (where people walk behind the machine), 0 elsewhere.
/// </summary>
public sealed class CycleTemplate : nn.Module
{
    /// <summary>
    /// A cell is background when its weight is below this share of the largest: the masking paper's
    /// threshold on its attention maps normalised to [0, 1] ("about 0.1 is best"). The weights play
    /// the part of that attention averaged over time: both say where the phase of the cycle can be read.
    /// </summary>
    public const double RelevanceThreshold = 0.1;

    private readonly Tensor template;
    private readonly Tensor weights;
    private readonly Tensor background;

    /// <param name="template">Mean cell features per phase bin [L &gt;= 2, cells, C] (owned).</param>
    /// <param name="weights">Cell weights [cells] (owned).</param>
    /// <param name="background">1 for background cells, 0 elsewhere [cells] (owned).</param>
    public CycleTemplate(Tensor template, Tensor weights, Tensor background)
        : base(nameof(CycleTemplate))
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(background);
        if (template.dim() != 3 || template.shape[0] < 2 || weights.dim() != 1 || weights.shape[0] != template.shape[1] || !background.shape.SequenceEqual(weights.shape))
        {
            throw new ArgumentException($"a cycle template is [L >= 2, cells, C] with [cells] weights and background, got [{string.Join(", ", template.shape)}], [{string.Join(", ", weights.shape)}] and [{string.Join(", ", background.shape)}]");
        }

        this.template = template;
        this.weights = weights;
        this.background = background;
        register_buffer(nameof(template), template);
        register_buffer(nameof(weights), weights);
        register_buffer(nameof(background), background);
    }

    /// <summary>A template of <paramref name="bins"/> phase bins over <paramref name="cells"/> cells, for a bundle's weights to load into.</summary>
    public static CycleTemplate Blank(int bins, int cells) => new(zeros(bins, cells, CycleFeatures.Channels), ones(cells), zeros(cells));

    /// <summary>Phase bins L.</summary>
    public int Bins => (int)template.shape[0];

    /// <summary>Mean cell features per phase bin [L, cells, C].</summary>
    public Tensor Template => template;

    /// <summary>Cell weights [cells].</summary>
    public Tensor Weights => weights;

    /// <summary>Which cells are background, row-major over the cell grid (see <see cref="RelevanceThreshold"/>).</summary>
    public bool[] Background() => [.. background.cpu().data<float>().ToArray().Select(static v => v > 0.5f)];

    /// <summary>
    /// Weighted squared distances [N, cells, L] of each frame's unit cell features [N, cells, C] to
    /// the same cell of every phase bin: <c>w_c |e_c - T_jc|^2</c>, one batched matrix product per
    /// cell. Summed over cells, a frame's distance to bin j; per cell, where it differs.
    /// </summary>
    public Tensor CellDistances(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        var cellsFirst = features.permute(1, 0, 2);                                      // [cells, N, C]
        var bins = template.permute(1, 2, 0);                                            // [cells, C, L]
        var squared = cellsFirst.square().sum(2, keepdim: true)                          // [cells, N, 1]
            .Plus(bins.square().sum(1, keepdim: true))                                   // [cells, 1, L]
            .sub_(cellsFirst.bmm(bins).mul_(HeldScalars.Two))
            .clamp_min_(HeldScalars.Zero);
        return squared.mul_(weights.view(-1, 1, 1)).permute(1, 0, 2).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The phase in [0, 1) each frame [N, cells, C] looks like most, from its own features alone: the
    /// bin of the smallest summed <see cref="CellDistances"/> over L, [N] (float32).
    /// </summary>
    public Tensor Phases(Tensor features)
    {
        using var scope = NewDisposeScope();
        using var bins = ((double)Bins).ToScalar();
        return CellDistances(features).sum(1).argmin(1).to_type(ScalarType.Float32).div_(bins).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Learns the template from labelled training frames: per phase bin the mean of the frames'
    /// cell features (an empty bin takes the linear blend of its nearest filled neighbours), and per
    /// cell the ratio of how much its features vary between phase bins to how much they vary within
    /// one (plus the mean within-bin variance, so a cell that barely varies at all gets no say); the
    /// machine's moving parts score high, people passing behind (varying at any phase) low. Cells
    /// of low weight are background (<see cref="RelevanceThreshold"/>).
    /// </summary>
    /// <param name="sums">Per bin, the sum of its frames' cell features [L, cells, C] (float64).</param>
    /// <param name="counts">Frames per bin [L] (float64).</param>
    public static CycleTemplate Learn(Tensor sums, Tensor counts)
    {
        ArgumentNullException.ThrowIfNull(sums);
        ArgumentNullException.ThrowIfNull(counts);
        using var scope = NewDisposeScope();
        var filled = counts.cpu().data<double>().ToArray();
        var total = filled.Sum();
        if (filled.Count(c => c > 0) < 2)
        {
            throw new ArgumentException("the training frames cover fewer than 2 phases of the cycle");
        }

        using var tiny = 1e-12.ToScalar();
        var means = sums.div(counts.clamp_min(HeldScalars.One).view(-1, 1, 1));
        var template = FillEmpty(means, filled);
        var share = counts.div(total).view(-1, 1);                                       // [L, 1]
        var norms = template.square().sum(2);                                            // [L, cells]
        var mean = template.mul(share.unsqueeze(2)).sum(0L);                              // [cells, C]
        var within = norms.mul(share).sum(0L).neg().add_(HeldScalars.One).clamp_min_(HeldScalars.Zero); // unit cells: E|e|^2 = 1
        var between = template.sub(mean.unsqueeze(0)).square().sum(2).mul(share).sum(0L);
        var ratio = between.div(within.Plus(within.mean()).clamp_min(tiny));
        var weights = ratio.div(ratio.sum().clamp_min(tiny));
        using var threshold = RelevanceThreshold.ToScalar();
        var background = ratio.lt(ratio.max().mul(threshold));
        return new CycleTemplate(
            template.to_type(ScalarType.Float32).MoveToOuterDisposeScope(),
            weights.to_type(ScalarType.Float32).MoveToOuterDisposeScope(),
            background.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>Bins without frames take the linear blend of the nearest filled bins before and after (cyclic).</summary>
    private static Tensor FillEmpty(Tensor means, double[] counts)
    {
        var bins = counts.Length;
        if (counts.All(c => c > 0))
        {
            return means;
        }

        var rows = new Tensor[bins];
        for (var j = 0; j < bins; j++)
        {
            if (counts[j] > 0)
            {
                rows[j] = means[j];
                continue;
            }

            var (back, ahead) = (1, 1);
            while (counts[Wrap(j - back)] <= 0)
            {
                back++;
            }

            while (counts[Wrap(j + ahead)] <= 0)
            {
                ahead++;
            }

            using var after = (back / (double)(back + ahead)).ToScalar();
            using var before = (ahead / (double)(back + ahead)).ToScalar();
            rows[j] = means[Wrap(j - back)].mul(before).Plus(means[Wrap(j + ahead)].mul(after));
        }

        return stack(rows, 0);

        int Wrap(int j) => ((j % bins) + bins) % bins;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            template.Dispose();
            weights.Dispose();
            background.Dispose();
        }

        base.Dispose(disposing);
    }
}
