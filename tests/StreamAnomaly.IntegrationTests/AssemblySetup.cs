using System.Runtime.CompilerServices;
using StreamAnomaly.Vision;

namespace StreamAnomaly.IntegrationTests;

/// <summary>Process-wide set-up of this test assembly.</summary>
internal static class AssemblySetup
{
    /// <summary>libtorch's settings (<see cref="TorchRuntime"/>) before any test touches it.</summary>
    [ModuleInitializer]
    internal static void ConfigureTorchFirst() => TorchRuntime.Configure();
}
