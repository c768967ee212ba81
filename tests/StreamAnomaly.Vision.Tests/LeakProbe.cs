using TorchSharp;

namespace StreamAnomaly.Vision.Tests;

/// <summary>Counts tensors still alive on this thread, through TorchSharp's dispose-scope statistics.</summary>
internal static class LeakProbe
{
    public static long LiveTensors
    {
        get
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
    }
}
