using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using StreamAnomaly.Vision;
using StreamAnomaly.Vision.Detectors.Integrated.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Cli.Commands;

/// <summary>What <c>bench integrated</c> measures: one network shape, several precisions and layouts.</summary>
internal sealed record BenchRequest(
    string Backbone,
    int Size,
    int Batch,
    int Iterations,
    int Warmup,
    string Device,
    string Precision,
    bool ChannelsLast,
    bool CudnnBenchmark,
    bool Json);

/// <summary>One timed configuration. <see cref="Error"/> is set (and the timings are 0) when the backend cannot run it.</summary>
internal sealed record BenchResult(
    string Precision,
    string Layout,
    bool CudnnBenchmark,
    double MsPerBatch,
    double FramesPerSecond,
    string? Error = null);

/// <summary>
/// <c>bench integrated</c>: inference throughput of the full <see cref="IntegratedNetwork"/> forward
/// (backbone, pyramid, both heads) on a random batch, in evaluation mode under inference mode, for
/// each requested precision (the whole model and input cast: TorchSharp has no autocast) and memory
/// layout (channels-last = NHWC strides on the input and on every 4-D weight, as PyTorch's
/// <c>to(memory_format=torch.channels_last)</c>). Prints one line per configuration (and JSON lines
/// with <c>--json</c>, the same fields as bench/integrated_reference.py prints).
/// </summary>
internal static class BenchWorkflow
{
    public static IReadOnlyList<BenchResult> RunIntegrated(BenchRequest request, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        if (request.Size < 32 || request.Size % 32 != 0)
        {
            throw new ArgumentException($"--size {request.Size}: the integrated CNN needs a positive multiple of 32");
        }

        if (!ResNet.Depths.Contains(request.Backbone))
        {
            throw new ArgumentException($"--backbone {request.Backbone}: expected one of {string.Join(", ", ResNet.Depths)}");
        }

        if (request.Warmup < 0)
        {
            throw new ArgumentException($"--warmup must be 0 or more, got {request.Warmup}");
        }

        var precisions = Precisions(request.Precision);
        var device = TorchDevices.Parse(request.Device);
        var onCuda = device.type == DeviceType.CUDA;
        var benchmarkSet = onCuda && CudnnBenchmark.TrySet(request.CudnnBenchmark);
        string[] layouts = request.ChannelsLast ? ["nchw", "channels_last"] : ["nchw"];
        var options = new IntegratedNetworkOptions { Depth = request.Backbone, InputHeight = request.Size, InputWidth = request.Size };

        long parameters;
        using (var probe = new IntegratedNetwork(options))
        {
            parameters = probe.CountParameters(NetworkParts.All);
        }

        var deviceName = onCuda ? $"{request.Device} (TorchSharp, libtorch {torch.__version__})" : "cpu";
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"integrated {request.Backbone} {request.Size}x{request.Size}, batch {request.Batch}, {request.Warmup} warm-up + {request.Iterations} timed iterations on {deviceName}; " +
            $"cudnn.benchmark {(onCuda ? (benchmarkSet ? (request.CudnnBenchmark ? "on" : "off") : "unavailable") : "n/a")}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parameters {parameters} (IntegratedNetwork.CountParameters(All))"));

        var results = new List<BenchResult>();
        foreach (var (name, type) in precisions)
        {
            foreach (var layout in layouts)
            {
                var result = Measure(options, request, device, name, type, layout == "channels_last", onCuda && benchmarkSet && request.CudnnBenchmark);
                results.Add(result);
                output.WriteLine(result.Error is null
                    ? string.Create(CultureInfo.InvariantCulture, $"  {name,-4} {layout,-13} {result.FramesPerSecond,10:F1} frames/s  {result.MsPerBatch,9:F2} ms/batch  {result.MsPerBatch / request.Batch,8:F4} ms/frame")
                    : $"  {name,-4} {layout,-13} unsupported here: {result.Error}");
                if (request.Json)
                {
                    output.WriteLine(JsonLine(request, parameters, result));
                }
            }
        }

        var best = results.Where(r => r.Error is null).MaxBy(r => r.FramesPerSecond);
        if (best is not null)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"README: TorchSharp integrated CNN ({request.Backbone} + FPN + both heads, {parameters / 1e6:F1} M parameters), {request.Size}x{request.Size}, batch {request.Batch}, {request.Device}: " +
                $"{best.FramesPerSecond:F0} frames/s ({best.MsPerBatch:F1} ms/batch, {best.Precision}, {best.Layout}{(best.CudnnBenchmark ? ", cudnn.benchmark" : string.Empty)})"));
        }

        return results;
    }

    private static (string Name, ScalarType Type)[] Precisions(string precision) => precision.Trim().ToLowerInvariant() switch
    {
        "fp32" => [("fp32", ScalarType.Float32)],
        "bf16" => [("bf16", ScalarType.BFloat16)],
        "fp16" => [("fp16", ScalarType.Float16)],
        "all" => [("fp32", ScalarType.Float32), ("bf16", ScalarType.BFloat16), ("fp16", ScalarType.Float16)],
        _ => throw new ArgumentException($"--precision {precision}: expected fp32, bf16, fp16 or all"),
    };

    private static BenchResult Measure(IntegratedNetworkOptions options, BenchRequest request, Device device, string precision, ScalarType type, bool channelsLast, bool benchmark)
    {
        var layout = channelsLast ? "channels_last" : "nchw";
        torch.random.manual_seed(0);
        using var network = new IntegratedNetwork(options);
        network.eval();
        foreach (var parameter in network.parameters())
        {
            parameter.requires_grad = false;
        }

        network.to(device);
        if (type != ScalarType.Float32)
        {
            network.to(type);
        }

        if (channelsLast)
        {
            ToChannelsLast(network);
        }

        using var scope = NewDisposeScope();
        var input = rand([request.Batch, 3, request.Size, request.Size], dtype: type, device: device);
        if (channelsLast)
        {
            input = ChannelsLast(input);
        }

        try
        {
            using var inference = inference_mode();
            for (var i = 0; i < request.Warmup; i++)
            {
                network.call(input).Dispose();
            }

            Synchronize(device);
            var stopwatch = Stopwatch.StartNew();
            for (var i = 0; i < request.Iterations; i++)
            {
                network.call(input).Dispose();
            }

            Synchronize(device);
            stopwatch.Stop();
            var msPerBatch = stopwatch.Elapsed.TotalMilliseconds / request.Iterations;
            return new BenchResult(precision, layout, benchmark, msPerBatch, request.Batch * 1000.0 / msPerBatch);
        }
        catch (ExternalException e)
        {
            // libtorch refuses some dtype/device pairs (e.g. half convolutions on some CPUs): report, go on.
            return new BenchResult(precision, layout, benchmark, 0, 0, e.Message.Split('\n')[0]);
        }
    }

    /// <summary>
    /// A view of a 4-D tensor with NHWC strides and NCHW shape (PyTorch's <c>channels_last</c>),
    /// which TorchSharp 0.107 cannot ask for by name: permute, make contiguous, permute back.
    /// </summary>
    internal static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>Every 4-D parameter (conv and transposed-conv weights) re-laid out channels-last in place.</summary>
    internal static void ToChannelsLast(nn.Module network)
    {
        using var noGrad = no_grad();
        foreach (var parameter in network.parameters().Where(p => p.dim() == 4))
        {
            using var relaid = ChannelsLast(parameter);
            parameter.set_(relaid);
        }
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }

    private static string JsonLine(BenchRequest request, long parameters, BenchResult result) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["impl"] = "torchsharp",
        ["depth"] = request.Backbone,
        ["size"] = request.Size,
        ["batch"] = request.Batch,
        ["iterations"] = request.Iterations,
        ["warmup"] = request.Warmup,
        ["device"] = request.Device,
        ["precision"] = result.Precision,
        ["mode"] = result.Precision == "fp32" ? "fp32" : "cast",
        ["layout"] = result.Layout,
        ["cudnn_benchmark"] = result.CudnnBenchmark,
        ["cuda_graph"] = false,
        ["params"] = parameters,
        ["ms_per_batch"] = Math.Round(result.MsPerBatch, 4),
        ["frames_per_s"] = Math.Round(result.FramesPerSecond, 2),
        ["error"] = result.Error,
    });

    /// <summary>
    /// <c>torch.backends.cudnn.benchmark</c>, which TorchSharp 0.107 does not expose (it has only
    /// <c>backends.cudnn.allow_tf32</c>): libtorch's exported <c>at::globalContext()</c> and
    /// <c>at::Context::setBenchmarkCuDNN(bool)</c> (Itanium C++ ABI: <c>this</c> is the first argument),
    /// found in the already-loaded libtorch_cpu.so.
    /// </summary>
    internal static class CudnnBenchmark
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate IntPtr GlobalContext();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate void SetBool(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        [return: MarshalAs(UnmanagedType.U1)]
        private delegate bool GetBool(IntPtr context);

        /// <summary>Sets the flag; false when the symbols cannot be found (then nothing changed).</summary>
        public static bool TrySet(bool enabled)
        {
            if (!TryResolve(out var context, out var set, out _))
            {
                return false;
            }

            set(context, enabled);
            return true;
        }

        /// <summary>The flag's current value, or null when the symbols cannot be found.</summary>
        public static bool? TryGet() => TryResolve(out var context, out _, out var get) ? get(context) : null;

        private static bool TryResolve(out IntPtr context, out SetBool set, out GetBool get)
        {
            (context, set, get) = (IntPtr.Zero, null!, null!);
            _ = torch.cuda.is_available(); // makes sure TorchSharp has loaded libtorch
            if (!NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out var library)
                || !NativeLibrary.TryGetExport(library, "_ZN2at13globalContextEv", out var globalContext)
                || !NativeLibrary.TryGetExport(library, "_ZN2at7Context17setBenchmarkCuDNNEb", out var setter)
                || !NativeLibrary.TryGetExport(library, "_ZNK2at7Context14benchmarkCuDNNEv", out var getter))
            {
                return false;
            }

            context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(globalContext)();
            set = Marshal.GetDelegateForFunctionPointer<SetBool>(setter);
            get = Marshal.GetDelegateForFunctionPointer<GetBool>(getter);
            return context != IntPtr.Zero;
        }
    }
}
