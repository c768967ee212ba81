using OpenCvSharp;
using StreamAnomaly.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamAnomaly.Vision.Imaging;

/// <summary>
/// Converts frames to model input and back. Model input is a float32 tensor [N, 3, H, W] in
/// [0, 1], channels in the frame's BGR order; frames are resized with area interpolation (the
/// right filter for shrinking camera frames).
/// </summary>
public static class FrameTensors
{
    /// <summary>Held for the process's life: an implicitly converted Scalar can be finalized mid-call in TorchSharp 0.107.</summary>
    private static readonly TorchSharp.Scalar ByteRange = 255f.ToScalar();

    /// <summary>Resizes one frame to <paramref name="width"/> x <paramref name="height"/> and returns its BGR bytes (HWC).</summary>
    public static byte[] ResizeBgr(Frame frame, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Width == width && frame.Height == height)
        {
            return frame.Bgr;
        }

        using var source = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, frame.Bgr);
        using var resized = new Mat();
        Cv2.Resize(source, resized, new OpenCvSharp.Size(width, height), interpolation: InterpolationFlags.Area);
        var bytes = new byte[width * height * 3];
        resized.GetArray(out Vec3b[] pixels);
        for (var i = 0; i < pixels.Length; i++)
        {
            bytes[(i * 3) + 0] = pixels[i].Item0;
            bytes[(i * 3) + 1] = pixels[i].Item1;
            bytes[(i * 3) + 2] = pixels[i].Item2;
        }

        return bytes;
    }

    /// <summary>
    /// Resizes every frame and stacks them into a uint8 tensor [N, 3, H, W] (compact storage for
    /// training sets; convert batches with <see cref="ToUnitFloat"/>).
    /// </summary>
    public static Tensor ToByteTensor(IReadOnlyList<Frame> frames, int width, int height) => Stack(frames, width, height);

    /// <summary>
    /// <see cref="ToByteTensor"/> for frames that stream in (decoded from clips one by one): only
    /// the resized copies are kept. N may be 0.
    /// </summary>
    public static Tensor Stack(IEnumerable<Frame> frames, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var plane = width * height;
        var planar = new List<byte[]>();
        foreach (var frame in frames)
        {
            var bgr = ResizeBgr(frame, width, height);
            var data = new byte[3 * plane];
            for (var p = 0; p < plane; p++)
            {
                data[p] = bgr[p * 3];
                data[plane + p] = bgr[(p * 3) + 1];
                data[(2 * plane) + p] = bgr[(p * 3) + 2];
            }

            planar.Add(data);
        }

        var all = new byte[planar.Count * 3 * plane];
        for (var n = 0; n < planar.Count; n++)
        {
            planar[n].CopyTo(all, n * 3 * plane);
        }

        return torch.tensor(all, [planar.Count, 3, height, width], dtype: ScalarType.Byte);
    }

    /// <summary>uint8 [N, 3, H, W] to float32 in [0, 1] on <paramref name="device"/>.</summary>
    public static Tensor ToUnitFloat(Tensor bytes, Device device) =>
        bytes.to(device).to_type(ScalarType.Float32).div_(ByteRange);

    /// <summary>Frames to a float32 batch [N, 3, H, W] in [0, 1] on <paramref name="device"/>.</summary>
    public static Tensor ToBatch(IReadOnlyList<Frame> frames, int width, int height, Device device)
    {
        using var scope = NewDisposeScope();
        return ToUnitFloat(ToByteTensor(frames, width, height), device).MoveToOuterDisposeScope();
    }
}
