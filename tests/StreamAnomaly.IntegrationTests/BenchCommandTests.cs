using System.Text.Json;
using StreamAnomaly.Cli;
using StreamAnomaly.Cli.Commands;
using StreamAnomaly.Vision.Detectors.Integrated.Network;

namespace StreamAnomaly.IntegrationTests;

[Collection(nameof(ConsoleCollection))]
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_integrated_on_the_cpu_prints_frames_per_second_and_the_network_parameter_count()
    {
        var (code, text) = await ConsoleCapture.RunWithOutput([
            "bench", "integrated", "--device", "cpu", "--backbone", "resnet18", "--size", "64", "--batch", "2",
            "--iterations", "1", "--warmup", "1", "--precision", "fp32", "--json"]);

        Assert.Equal(0, code);
        using var network = new IntegratedNetwork(new IntegratedNetworkOptions { Depth = "resnet18", InputHeight = 64, InputWidth = 64 });
        var expected = network.CountParameters(NetworkParts.All);
        Assert.Contains($"parameters {expected} ", text);
        Assert.Matches(@"fp32 nchw +\d+(\.\d+)? frames/s", text);
        Assert.Contains("README: ", text);
        var line = Assert.Single(text.Split('\n'), l => l.StartsWith('{'));
        using var json = JsonDocument.Parse(line);
        Assert.Equal(expected, json.RootElement.GetProperty("params").GetInt64());
        Assert.True(json.RootElement.GetProperty("frames_per_s").GetDouble() > 0);
        Assert.Equal("nchw", json.RootElement.GetProperty("layout").GetString());
    }

    [Fact]
    public async Task Bench_temporal_prints_both_ways_of_scoring_windows_and_their_ratio()
    {
        var (code, output) = await ConsoleCapture.RunWithOutput(["bench", "temporal", "--cameras", "2", "--rounds", "1", "--set", "size=32", "--set", "window=4", "--set", "autoencoderWidth=4", "--set", "autoencoderHidden=8"]);

        Assert.Equal(0, code);
        Assert.Matches(@"temporal 32 px, window 4, 2 cameras x 1 batches on cpu: each window alone \d+\.\d frames/s, windows batched \d+\.\d frames/s \(\d+\.\d\dx\)", output);
    }

    [Fact]
    public async Task Bench_integrated_rejects_an_unknown_precision()
    {
        var (code, error) = await ConsoleCapture.Run(["bench", "integrated", "--device", "cpu", "--precision", "int3", "--size", "64"]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("--precision int3", error);
    }

    [Fact]
    public void Channels_last_keeps_shape_and_values_with_nhwc_strides()
    {
        using var x = TorchSharp.torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5);
        using var cl = BenchWorkflow.ChannelsLast(x);
        Assert.Equal(x.shape, cl.shape);
        Assert.Equal([60L, 1, 15, 3], cl.stride());
        Assert.True(x.eq(cl).all().item<bool>());
    }

    [Fact]
    public void Cudnn_benchmark_flag_is_reachable_through_libtorch_exports()
    {
        var before = BenchWorkflow.CudnnBenchmark.TryGet();
        Assert.NotNull(before);
        try
        {
            Assert.True(BenchWorkflow.CudnnBenchmark.TrySet(!before.Value));
            Assert.Equal(!before.Value, BenchWorkflow.CudnnBenchmark.TryGet());
        }
        finally
        {
            BenchWorkflow.CudnnBenchmark.TrySet(before.Value);
        }
    }
}
