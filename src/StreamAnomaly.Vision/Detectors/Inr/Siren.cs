using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Detectors.Inr;

/// <summary>
/// A SIREN (Sitzmann et al. 2020) f(x, y) -> colour: <c>layers</c> sine layers
/// <c>h = sin(omega (W h + b))</c> of <c>hidden</c> units, the first on the coordinates (x, y) in
/// [-1, 1], then a linear layer to the three colour channels (fitted in [-1, 1]). This module holds
/// one set of weights, the learned initialisation that every frame's fit starts from (parameters
/// <c>weight0</c>, <c>bias0</c>, ..., the last pair the colour layer; weights [out, in]). The static
/// members work on a batch of SIRENs: each weight with a leading frame dimension [B, out, in], so B
/// frames are fitted at once by batched matrix products.
/// </summary>
public sealed class Siren : nn.Module
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    private readonly Parameter[] weights;

    /// <summary>A SIREN with the paper's initialisation: first layer U(-1/2, 1/2), later ones U(-sqrt(6/n)/omega, sqrt(6/n)/omega), biases U(-1/sqrt(n), 1/sqrt(n)).</summary>
    public Siren(int hidden, int layers, double omega, Generator? generator = null)
        : base(nameof(Siren))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        Hidden = hidden;
        Layers = layers;
        Omega = omega;
        var list = new List<Parameter>();
        for (var layer = 0; layer <= layers; layer++)
        {
            var input = layer == 0 ? 2 : hidden;
            var output = layer == layers ? 3 : hidden;
            var bound = layer == 0 ? 1.0 / input : Math.Sqrt(6.0 / input) / omega;
            var biasBound = 1.0 / Math.Sqrt(input);
            var weight = new Parameter(Uniform([output, input], bound, generator));
            var bias = new Parameter(Uniform([output], biasBound, generator));
            register_parameter($"weight{layer}", weight);
            register_parameter($"bias{layer}", bias);
            list.Add(weight);
            list.Add(bias);
        }

        weights = [.. list];
    }

    /// <summary>Units of each sine layer.</summary>
    public int Hidden { get; }

    /// <summary>Sine layers (the colour layer not counted).</summary>
    public int Layers { get; }

    /// <summary>Frequency of every sine layer.</summary>
    public double Omega { get; }

    /// <summary>The weights in order weight0, bias0, weight1, ... (live: they are this module's parameters).</summary>
    public IReadOnlyList<Parameter> Weights => weights;

    /// <summary>The pixel centres of a <paramref name="size"/> x <paramref name="size"/> grid as (x, y) in [-1, 1], row by row: [size^2, 2].</summary>
    public static Tensor Grid(int size, Device device)
    {
        using var scope = NewDisposeScope();
        var axis = linspace(-1 + (1.0 / size), 1 - (1.0 / size), size, device: device);
        var mesh = meshgrid([axis, axis], indexing: "ij"); // [0] varies with the row (y), [1] with the column (x)
        return stack([mesh[1].flatten(), mesh[0].flatten()], 1).MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="count"/> copies of the initialisation as leaves that require gradients, each [count, ...] (the caller owns them).</summary>
    public Tensor[] Replicate(long count)
    {
        using var noGrad = no_grad();
        return weights.Select(p => p.unsqueeze(0).expand([count, .. p.shape]).clone().requires_grad_(true)).ToArray();
    }

    /// <summary>
    /// The colours of B SIRENs (<paramref name="batched"/>: weights [B, out, in], biases [B, out]) at
    /// <paramref name="coordinates"/> [P, 2]: [B, P, 3].
    /// </summary>
    public static Tensor Forward(IReadOnlyList<Tensor> batched, Tensor coordinates, double omega)
    {
        ArgumentNullException.ThrowIfNull(batched);
        ArgumentNullException.ThrowIfNull(coordinates);
        using var scope = NewDisposeScope();
        using var frequency = omega.ToScalar();
        var layers = (batched.Count / 2) - 1;
        var h = coordinates.unsqueeze(0).expand([batched[0].shape[0], .. coordinates.shape]);
        for (var layer = 0; layer <= layers; layer++)
        {
            var z = bmm(h, batched[2 * layer].transpose(1, 2)).Plus(batched[(2 * layer) + 1].unsqueeze(1));
            h = layer < layers ? z.mul(frequency).sin() : z;
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Per-frame mean squared error of the SIRENs' colours against <paramref name="targets"/> [B, P, 3], summed over the frames (so each frame's gradient is that of its own error).</summary>
    public static Tensor Loss(IReadOnlyList<Tensor> batched, Tensor coordinates, Tensor targets, double omega)
    {
        using var scope = NewDisposeScope();
        return Forward(batched, coordinates, omega).sub(targets).square().mean([1, 2]).sum().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Fits each SIREN of <paramref name="batched"/> (leaves that require gradients, updated in place)
    /// to its frame of <paramref name="targets"/> [B, P, 3] with <paramref name="steps"/> Adam steps of
    /// learning rate <paramref name="rate"/>; Adam's moments are per element, so the frames do not
    /// interact. Leaves no tensor behind.
    /// </summary>
    public static void Fit(IReadOnlyList<Tensor> batched, Tensor coordinates, Tensor targets, double omega, int steps, double rate, Action<int, double>? afterStep = null)
    {
        ArgumentNullException.ThrowIfNull(batched);
        using var outer = NewDisposeScope();
        using var grad = enable_grad();
        var first = batched.Select(static p => zeros_like(p)).ToArray();
        var second = batched.Select(static p => zeros_like(p)).ToArray();
        using var beta1 = Beta1.ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var epsilon = Epsilon.ToScalar();
        for (var step = 1; step <= steps; step++)
        {
            using var scope = NewDisposeScope();
            var loss = Loss(batched, coordinates, targets, omega);
            var gradients = autograd.grad([loss], [.. batched]);
            using (no_grad())
            {
                using var correction2 = (1 - Math.Pow(Beta2, step)).ToScalar();
                using var stepSize = (-rate / (1 - Math.Pow(Beta1, step))).ToScalar();
                for (var i = 0; i < batched.Count; i++)
                {
                    first[i].mul_(beta1).add_(gradients[i], oneMinusBeta1);
                    second[i].mul_(beta2).addcmul_(gradients[i], gradients[i], oneMinusBeta2);
                    var denominator = second[i].div(correction2).sqrt_().add_(epsilon);
                    batched[i].addcdiv_(first[i], denominator, stepSize);
                }
            }

            afterStep?.Invoke(step, loss.item<float>());
        }
    }

    /// <summary>
    /// Per-pixel squared residual of the SIRENs against <paramref name="targets"/> [B, P, 3] (colours
    /// in [-1, 1]), averaged over the channels and brought back to the [0, 1] colour scale: [B, P].
    /// </summary>
    public static Tensor Residual(IReadOnlyList<Tensor> batched, Tensor coordinates, Tensor targets, double omega)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var quarter = 0.25.ToScalar();
        return Forward(batched, coordinates, omega).sub(targets).square().mean([2]).mul(quarter).MoveToOuterDisposeScope();
    }

    /// <summary>Frames [B, 3, S, S] in [0, 1] as SIREN targets [B, S^2, 3] in [-1, 1], pixels row by row as in <see cref="Grid"/>.</summary>
    public static Tensor Targets(Tensor frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var scope = NewDisposeScope();
        return frames.mul(HeldScalars.Two).sub(HeldScalars.One).permute(0, 2, 3, 1).reshape(frames.shape[0], -1, 3).contiguous().MoveToOuterDisposeScope();
    }

    private static Tensor Uniform(long[] shape, double bound, Generator? generator)
    {
        using var scope = NewDisposeScope();
        using var width = (2 * bound).ToScalar();
        using var low = bound.ToScalar();
        return rand(shape, generator: generator).mul(width).sub(low).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var parameter in weights)
            {
                parameter.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
