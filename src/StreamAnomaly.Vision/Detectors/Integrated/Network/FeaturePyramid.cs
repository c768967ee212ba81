using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StreamAnomaly.Vision.Detectors.Integrated.Network;

/// <summary>
/// YOLACT's feature pyramid. Lateral 1x1 convs bring C3, C4, C5 to <see cref="Channels"/>;
/// P5 = lat(C5), P4 = up(P5) + lat(C4), P3 = up(P4) + lat(C3) (bilinear, to the exact lateral size);
/// each of P3..P5 is smoothed by a 3x3 conv + ReLU; P6 = 3x3 stride-2 conv of (smoothed) P5 and
/// P7 = 3x3 stride-2 conv of P6. <see cref="forward"/> returns [P3, P4, P5, P6, P7]
/// (strides 8, 16, 32, 64, 128; sides ceil(side / stride)).
/// State-dict names: <c>lat_layers.{0,1,2}</c> (for C3, C4, C5), <c>pred_layers.{0,1,2}</c>
/// (for P3, P4, P5), <c>downsample_layers.{0,1}</c> (P6, P7).
/// </summary>
public sealed class FeaturePyramid : Module<(Tensor C3, Tensor C4, Tensor C5), Tensor[]>
{
    /// <summary>Number of levels returned (P3..P7).</summary>
    public const int Levels = 5;

    private readonly ModuleList<Conv2d> lat_layers;
    private readonly ModuleList<Conv2d> pred_layers;
    private readonly ModuleList<Conv2d> downsample_layers;

    public FeaturePyramid((long C3, long C4, long C5) inChannels, int channels = 256) : base(nameof(FeaturePyramid))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        Channels = channels;
        lat_layers = new ModuleList<Conv2d>(
            Conv2d(inChannels.C3, channels, kernel_size: 1),
            Conv2d(inChannels.C4, channels, kernel_size: 1),
            Conv2d(inChannels.C5, channels, kernel_size: 1));
        pred_layers = new ModuleList<Conv2d>(Enumerable.Range(0, 3)
            .Select(_ => Conv2d(channels, channels, kernel_size: 3, padding: 1)).ToArray());
        downsample_layers = new ModuleList<Conv2d>(Enumerable.Range(0, 2)
            .Select(_ => Conv2d(channels, channels, kernel_size: 3, stride: 2, padding: 1)).ToArray());
        RegisterComponents();
    }

    /// <summary>Channels of every pyramid level (YOLACT: 256).</summary>
    public int Channels { get; }

    public override Tensor[] forward((Tensor C3, Tensor C4, Tensor C5) input)
    {
        using var scope = NewDisposeScope();
        var p5 = lat_layers[2].call(input.C5);
        var lat4 = lat_layers[1].call(input.C4);
        var p4 = Upsample(p5, lat4).Plus(lat4);
        var lat3 = lat_layers[0].call(input.C3);
        var p3 = Upsample(p4, lat3).Plus(lat3);
        var smoothed = new[] { p3, p4, p5 }.Select((p, i) => functional.relu(pred_layers[i].call(p))).ToArray();
        var p6 = downsample_layers[0].call(smoothed[2]);
        var p7 = downsample_layers[1].call(p6);
        return [.. smoothed.Append(p6).Append(p7).Select(t => t.MoveToOuterDisposeScope())];
    }

    private static Tensor Upsample(Tensor x, Tensor like) =>
        functional.interpolate(x, size: [like.shape[2], like.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lat_layers.Dispose();
            pred_layers.Dispose();
            downsample_layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
