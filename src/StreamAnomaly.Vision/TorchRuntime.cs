using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamAnomaly.Vision;

/// <summary>
/// Process-wide settings that libtorch reads once, applied when this assembly loads, before any
/// model runs.
/// </summary>
/// <remarks>
/// oneDNN (libtorch's CPU convolution library, v3.7.1 in libtorch 2.10) chooses its JIT kernels by
/// the CPU's instruction sets. On the AMD EPYC machines this project is built and tested on (they
/// report AVX-512 with bf16), its AVX2 and AVX-512 kernels return NaN from the first forward pass
/// of small ResNets and give a different conv3d input gradient on every run with two threads; its
/// AVX kernels are exact and deterministic and, measured there, as fast (integrated network,
/// quarter-width ResNet-18, 128 px, batch 16: train step 1,186 ms against 1,123 ms; inference 447
/// against 454 ms; turning oneDNN off instead costs 2.3-3.6x). So <c>ONEDNN_MAX_CPU_ISA</c>
/// defaults to <see cref="DefaultOneDnnIsa"/>; a value already in the environment wins, so a
/// machine whose wider kernels are sound can set <c>ONEDNN_MAX_CPU_ISA=ALL</c>.
/// <c>TorchRuntimeTests</c> guard both failures.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The environment variable oneDNN reads its instruction-set ceiling from.</summary>
    public const string OneDnnIsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The ceiling used unless the environment names another.</summary>
    public const string DefaultOneDnnIsa = "AVX";

    /// <summary>The ceiling oneDNN will use: the environment's (native) value.</summary>
    public static string? OneDnnIsa => Marshal.PtrToStringUTF8(GetEnv(OneDnnIsaVariable));

    /// <summary>
    /// Sets the defaults in the native environment, where libtorch reads them (.NET's
    /// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach it). Safe to
    /// call more than once; only the first call before oneDNN's first convolution has an effect.
    /// </summary>
    public static void Configure()
    {
        if (OperatingSystem.IsLinux() && SetEnv(OneDnnIsaVariable, DefaultOneDnnIsa, overwrite: 0) != 0)
        {
            throw new InvalidOperationException($"setenv({OneDnnIsaVariable}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries", Justification = "libtorch reads the setting once, at its first convolution: it must be in place before any code of this assembly runs a model.")]
    internal static void ConfigureOnLoad() => Configure();

    [DllImport("libc.so.6", EntryPoint = "setenv", SetLastError = true)]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc.so.6", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
