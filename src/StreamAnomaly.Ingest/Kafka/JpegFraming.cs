namespace StreamAnomaly.Ingest.Kafka;

/// <summary>
/// A cheap structural check of JPEG bytes before decoding: a frame is complete only when it
/// starts with the SOI marker (FF D8) and ends with the EOI marker (FF D9); trailing zero padding,
/// which some cameras add, is allowed. Some libjpeg builds behind OpenCV decode a cut JPEG with a
/// warning ("premature end of data segment") and fill the missing rows; the official OpenCvSharp
/// 4.13 linux-x64 runtime used here refuses them itself, but the feed does not rely on which
/// decoder is loaded. Entropy-coded data stuffs every FF with 00, so FF D9 cannot appear by
/// chance at the end of a cut-off scan.
/// </summary>
public static class JpegFraming
{
    /// <summary>True when the bytes are framed as one whole JPEG; otherwise <paramref name="problem"/> says why.</summary>
    public static bool IsComplete(ReadOnlySpan<byte> bytes, out string problem)
    {
        if (bytes.Length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8)
        {
            problem = $"not a JPEG: no start-of-image marker FF D8 at the start of {bytes.Length} bytes";
            return false;
        }

        var end = bytes.Length;
        while (end > 2 && bytes[end - 1] == 0)
        {
            end--;
        }

        if (bytes[end - 2] != 0xFF || bytes[end - 1] != 0xD9)
        {
            problem = $"truncated JPEG: no end-of-image marker FF D9 at the end of {bytes.Length} bytes";
            return false;
        }

        problem = string.Empty;
        return true;
    }
}
