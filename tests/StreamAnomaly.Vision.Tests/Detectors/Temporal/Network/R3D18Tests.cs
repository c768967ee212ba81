using System.ComponentModel.DataAnnotations;
using StreamAnomaly.Core.Temporal;
using StreamAnomaly.Vision.Detectors.Temporal;
using StreamAnomaly.Vision.Detectors.Temporal.Network;
using StreamAnomaly.Vision.Models.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Tests.Detectors.Temporal.Network;

public sealed class R3D18Tests
{
    [Fact]
    public void Logits_come_per_frame_for_a_small_width_network()
    {
        using var model = new R3D18(classes: 5, widthDivisor: 16);
        using var scope = NewDisposeScope();
        var logits = model.call(rand([2, 8, 3, 64, 64]));
        Assert.Equal(new long[] { 2, 8, 5 }, logits.shape);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void The_last_k_conv_layers_are_exposed_per_frame(int layers)
    {
        using var model = new R3D18(classes: 3, widthDivisor: 16);
        model.eval();
        using var scope = NewDisposeScope();
        var clip = rand([2, 8, 3, 64, 64]);
        var (logits, activations) = model.ForwardWithActivations(clip, layers);
        Assert.True(logits.allclose(model.call(clip), rtol: 1e-4, atol: 1e-5));
        Assert.Equal(layers, activations.Length);

        // Forward order, last conv last. Stage 4 (32 channels at 64/16 = 4 px) holds the last 4, stage 3
        // (16 channels at 8 px) the 4 before.
        for (var i = 0; i < layers; i++)
        {
            var fromEnd = layers - i;
            long[] expected = fromEnd <= 4 ? [2, 8, 32, 4, 4] : [2, 8, 16, 8, 8];
            Assert.Equal(expected, activations[i].shape);
        }
    }

    [Fact]
    public void Full_width_parameter_count_matches_the_arithmetic_of_r3d_18()
    {
        // Conv weights have no bias; each batch norm has 2 parameters per channel (running stats are buffers).
        static long Conv(long cin, long cout, long kernel) => cin * cout * kernel;
        static long Bn(long c) => 2 * c;
        const long k3 = 3 * 3 * 3;
        var stem = Conv(3, 64, 3 * 7 * 7) + Bn(64);                                       //     28,352
        long Block(long cin, long cout) =>
            Conv(cin, cout, k3) + Bn(cout) + Conv(cout, cout, k3) + Bn(cout)
            + (cin != cout ? Conv(cin, cout, 1) + Bn(cout) : 0);
        var stages = Block(64, 64) + Block(64, 64)                                         //    442,880
            + Block(64, 128) + Block(128, 128)                                             //  1,557,760
            + Block(128, 256) + Block(256, 256)                                            //  6,228,480
            + Block(256, 512) + Block(512, 512);                                           // 24,908,800
        const int classes = 400;
        var head = (512 * classes) + classes;                                              //    205,200
        var expected = stem + stages + head;
        Assert.Equal(33_371_472L, expected);   // torchvision r3d_18 (400 Kinetics classes) has the same count

        using var model = new R3D18(classes);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
        Assert.Equal(33_166_272L + (513L * 8), PartitionModelSize(8));
    }

    private static long PartitionModelSize(int classes)
    {
        using var model = new R3D18(classes);
        return model.parameters().Sum(p => p.numel());
    }

    [Fact]
    public void State_dict_uses_torchvision_names()
    {
        using var model = new R3D18(classes: 4, widthDivisor: 16);
        var keys = model.state_dict().Keys.ToArray();
        Assert.Contains("stem.0.weight", keys);
        Assert.Contains("stem.1.running_var", keys);
        Assert.Contains("layer1.0.conv1.weight", keys);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer4.1.bn2.bias", keys);
        Assert.Contains("fc.weight", keys);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", keys);
    }

    [Fact]
    public void Inflation_repeats_each_pretrained_kernel_along_time_divided_by_its_depth()
    {
        using var scope = NewDisposeScope();
        using var pretrained = PretrainedResNet18.Load();
        using var model = new R3D18(classes: 4, imagenet: true);

        model.InflateFrom(pretrained);

        var (inflated, source) = (model.state_dict(), pretrained.state_dict());
        var stem = inflated["stem.0.weight"];
        Assert.Equal([64L, 3, 3, 7, 7], stem.shape);
        Assert.True(stem.select(2, 0).mul(3).allclose(source["conv1.weight"], rtol: 1e-5, atol: 1e-7));
        Assert.True(stem.select(2, 0).allclose(stem.select(2, 2), rtol: 0, atol: 0));
        Assert.True(inflated["layer4.2.conv2.weight"].sum(2L).allclose(source["layer4.2.conv2.weight"], rtol: 1e-4, atol: 1e-6));
        Assert.True(inflated["layer2.0.downsample.0.weight"].squeeze(2).allclose(source["layer2.0.downsample.0.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void Inflation_copies_batch_norm_statistics_and_the_input_means()
    {
        using var scope = NewDisposeScope();
        using var pretrained = PretrainedResNet18.Load();
        using var model = new R3D18(classes: 4, imagenet: true);

        model.InflateFrom(pretrained);

        var (inflated, source) = (model.state_dict(), pretrained.state_dict());
        Assert.True(inflated["stem.1.running_mean"].allclose(source["bn1.running_mean"], rtol: 0, atol: 0));
        Assert.True(inflated["layer3.1.bn2.running_var"].allclose(source["layer3.1.bn2.running_var"], rtol: 0, atol: 0));
        Assert.Equal(pretrained.Preprocessing.ChannelMeans, inflated["input_mean"].data<float>().ToArray());
    }

    [Fact]
    public void Only_a_full_width_network_of_the_pretrained_shape_takes_the_pretrained_weights()
    {
        using var pretrained = PretrainedResNet18.Load();
        using var scratch = new R3D18(classes: 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => new R3D18(classes: 4, widthDivisor: 8, imagenet: true));
        Assert.Throws<InvalidOperationException>(() => scratch.InflateFrom(pretrained));
    }

    [Fact]
    public void A_pretrained_mask_model_with_a_width_divisor_is_refused_by_name()
    {
        var options = new TemporalOptions { PretrainedMask = true, MaskWidthDivisor = 8 };

        var errors = options.Validate(new ValidationContext(options)).ToList();

        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(TemporalOptions.MaskWidthDivisor)));
    }

    [Fact]
    public void Training_on_soft_partition_labels_lowers_the_loss()
    {
        random.manual_seed(7);
        using var model = new R3D18(classes: 4, widthDivisor: 16);
        model.train();
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        using var clip = rand([2, 8, 3, 32, 32]);

        // Soft labels of an 8-frame cycle in 4 partitions, ramps of 2 frames; the second clip is half a cycle later.
        var rows = PartitionLabels.Smoothed([.. Enumerable.Range(0, 8).Select(t => (double)t), .. Enumerable.Range(4, 8).Select(t => (double)t)], 8, 4, 2);
        using var targets = tensor(rows.SelectMany(r => r.Select(v => (float)v)).ToArray(), [2, 8, 4]);

        var losses = new List<float>();
        for (var step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = SoftTargetCrossEntropy.Compute(model.call(clip), targets);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < 0.7f * losses[0], $"losses: {string.Join(", ", losses)}");
    }

    [Fact]
    public void Soft_cross_entropy_of_uniform_logits_is_log_of_the_class_count()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(3, 5, 4);
        var targets = tensor(new float[] { 0.25f, 0.75f, 0, 0 }).expand(3, 5, 4);
        Assert.Equal(Math.Log(4), SoftTargetCrossEntropy.Compute(logits, targets).item<float>(), 5);

        // Against a one-hot row, it is the ordinary cross entropy -log softmax(z)_c.
        var z = tensor(new float[] { 1, 2, 3 });
        var onehot = tensor(new float[] { 0, 0, 1 });
        var expected = -Math.Log(Math.Exp(3) / (Math.Exp(1) + Math.Exp(2) + Math.Exp(3)));
        Assert.Equal(expected, SoftTargetCrossEntropy.Compute(z, onehot).item<float>(), 5);
    }

    [Fact]
    public void Forward_and_eigen_cam_leave_no_live_tensor_behind()
    {
        using var model = new R3D18(classes: 3, widthDivisor: 16);
        model.eval();
        using var clip = rand([1, 4, 3, 32, 32]);
        void Run()
        {
            using var logits = model.call(clip);
            var (more, activations) = model.ForwardWithActivations(clip, 4);
            using var masks = EigenCam.Masks(activations, 32, 32, threshold: 0.1, window: 3);
            more.Dispose();
            foreach (var a in activations)
            {
                a.Dispose();
            }
        }

        Run();
        var before = LeakProbe.LiveTensors;
        Run();
        Run();
        Assert.Equal(before, LeakProbe.LiveTensors);
    }
}
