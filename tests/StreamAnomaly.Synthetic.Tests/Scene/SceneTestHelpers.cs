using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Tests.Scene;

internal static class SceneTestHelpers
{
    /// <summary>Pixels where two frames of the same size differ in any channel.</summary>
    public static bool[] Differences(Frame a, Frame b)
    {
        var result = new bool[a.Width * a.Height];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = a.Bgr[i * 3] != b.Bgr[i * 3] || a.Bgr[(i * 3) + 1] != b.Bgr[(i * 3) + 1] || a.Bgr[(i * 3) + 2] != b.Bgr[(i * 3) + 2];
        }

        return result;
    }

    /// <summary>The first time in [0, limit) on a 0.1 s grid where the mask selected by <paramref name="mask"/> is non-empty.</summary>
    public static double FirstTimeWith(RobotCellScene scene, Func<SceneFrame, BinaryMask> mask, int size, double limit = 60)
    {
        for (var t = 0.0; t < limit; t += 0.1)
        {
            if (mask(scene.Render(t, size, size)).Area > 20)
            {
                return t;
            }
        }

        throw new InvalidOperationException("the object never appeared");
    }
}
