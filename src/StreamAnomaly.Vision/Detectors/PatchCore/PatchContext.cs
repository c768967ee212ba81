using StreamAnomaly.Vision.Detectors.Cycle;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.PatchCore;

/// <summary>
/// PatchCore's context: where in the frame and when in the machine cycle a patch was seen. Every
/// patch feature gets <see cref="Extra"/> more coordinates, the phase of the cycle its frame shows
/// (<c>a cos 2 pi phase, a sin 2 pi phase</c>) and its place in the frame (<c>b y, b x</c>, y and x
/// in [0, 1]), so the nearest normal patch must be near in appearance, in place and in time: a part
/// lying where parts lie only at another moment of the cycle, or an empty gripper where the gripper
/// always holds a part at this moment, finds no near neighbour although plain PatchCore finds one.
/// </summary>
/// <remarks>
/// <para>Scales, from the options and the spread s of the training patch features (root mean
/// squared distance to their mean, measured when the bank is built): <c>a = phaseWeight s / (2 pi)</c>,
/// so a small phase difference of d cycles costs about <c>phaseWeight s d</c>, and
/// <c>b = positionWeight s</c>, so a shift across the whole frame side costs <c>positionWeight s</c>.</para>
/// <para>The phase of a frame is the bin of the machine's cycle template (the cycle detector's,
/// <see cref="CycleDefinition.Learn"/>, learned with the bank) nearest to the frame's layer3 cells,
/// from the frame alone, the same rule in training and in scoring. A module so the template travels
/// in the bundle's weights (child <c>cycle</c>); without a phase weight there is no template.</para>
/// </remarks>
internal sealed class PatchContext : nn.Module
{
    /// <summary>Coordinates added to each patch feature: two of phase, two of position.</summary>
    public const int Extra = 4;

    private readonly CycleTemplate? cycle;
    private readonly double phaseScale;
    private readonly double positionScale;

    /// <param name="cycle">The machine's cycle template (owned), or null without a phase weight.</param>
    /// <param name="spread">The spread s of the training patch features.</param>
    /// <param name="options">The phase and position weights.</param>
    public PatchContext(CycleTemplate? cycle, double spread, PatchCoreOptions options)
        : base(nameof(PatchContext))
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(spread > 0) || !double.IsFinite(spread))
        {
            throw new ArgumentOutOfRangeException(nameof(spread), spread, "the spread of the patch features must be positive");
        }

        if ((options.PhaseWeight > 0) != (cycle is not null))
        {
            throw new ArgumentException("a phase weight needs the cycle template, and a template a phase weight", nameof(cycle));
        }

        this.cycle = cycle;
        Spread = spread;
        phaseScale = options.PhaseWeight * spread / (2 * Math.PI);
        positionScale = options.PositionWeight * spread;
        if (cycle is not null)
        {
            register_module(nameof(cycle), cycle);
        }
    }

    /// <summary>The spread s of the training patch features.</summary>
    public double Spread { get; }

    /// <summary>Phase bins of the cycle template (0 without one).</summary>
    public int Bins => cycle?.Bins ?? 0;

    /// <summary>Root mean squared distance of the rows [n, D] to their mean.</summary>
    public static double SpreadOf(Tensor rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var scope = NewDisposeScope();
        var x = rows.to_type(ScalarType.Float64);
        return x.sub(x.mean([0L], keepdim: true)).square().sum(1).mean().sqrt().item<double>();
    }

    /// <summary>
    /// One row per patch [N h w, D + <see cref="Extra"/>] (frames' patches in row-major order, as
    /// <see cref="PatchFeatures.Rows"/>): the features [N, D, h, w] and their context coordinates; the
    /// layer3 map [N, 256, H/16, W/16] of the same frames tells their phase.
    /// </summary>
    public Tensor Rows(Tensor patches, Tensor layer3)
    {
        ArgumentNullException.ThrowIfNull(patches);
        ArgumentNullException.ThrowIfNull(layer3);
        using var scope = NewDisposeScope();
        var (n, h, w) = (patches.shape[0], patches.shape[2], patches.shape[3]);
        var device = patches.device;
        using var a = phaseScale.ToScalar();
        using var b = positionScale.ToScalar();
        using var half = 0.5.ToScalar();
        using var height = ((double)h).ToScalar();
        using var width = ((double)w).ToScalar();
        Tensor phase;
        if (cycle is null)
        {
            phase = zeros([n, 2], device: device);
        }
        else
        {
            using var turn = (2 * Math.PI).ToScalar();
            var angle = cycle.Phases(CycleFeatures.Cells(layer3)).mul(turn);
            phase = stack([angle.cos(), angle.sin()], 1).mul_(a);
        }

        var ys = arange(h, ScalarType.Float32, device).add_(half).div_(height).view(h, 1).expand(h, w);
        var xs = arange(w, ScalarType.Float32, device).add_(half).div_(width).view(1, w).expand(h, w);
        var place = stack([ys, xs], 2).view(h * w, 2).mul_(b);
        var rows = cat(
            [
                PatchFeatures.Rows(patches),
                phase.repeat_interleave(h * w, dim: 0),
                place.repeat(n, 1),
            ],
            1);
        return rows.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            cycle?.Dispose();
        }

        base.Dispose(disposing);
    }
}
