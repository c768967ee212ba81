using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Host;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Vision.Detectors.Autoencoder;

namespace StreamAnomaly.IntegrationTests;

public sealed class CommissioningTests
{
    private static readonly CommissioningOptions Tiny = new(Seconds: 2, Percentile: 50)
    {
        Detector = AutoencoderDetector.Name,
        Settings = ["size=16", "width=8", "code=32", "epochs=1", "batch=4"],
    };

    [Fact]
    public void The_threshold_is_calibrated_on_the_last_fifth_of_each_cameras_footage()
    {
        // Each camera films grey for 8 frames, then white for its last 2 (its last fifth). Calibrated
        // there, the median threshold is a white frame's score; on every fifth frame it would lie
        // between the grey and the white scores.
        IReadOnlyList<Frame>[] footage = [Camera(), Camera()];

        using var trained = Commissioning.Train(footage, Tiny);

        Assert.Equal("4", trained.Bundle.Manifest.Training["validationFrames"]);
        var white = trained.Detector.ScoreSequence([Plain(255), Plain(255)]).Min(static s => s.RawScore);
        var threshold = trained.Bundle.Manifest.Calibrations[trained.Detector.Variants[0]].Threshold;
        Assert.Equal(white, threshold, 6);
    }

    [Fact]
    public void A_camera_with_fewer_than_five_frames_is_refused_saying_how_many_it_has()
    {
        IReadOnlyList<Frame>[] footage = [Camera(), [Plain(90), Plain(90)]];

        var error = Assert.Throws<ArgumentException>(() => Commissioning.Train(footage, Tiny));

        Assert.Contains("5 per camera", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Commissioning_footage_is_what_a_worker_receives_the_camera_pumps_jpeg_decoded()
    {
        CameraOptions[] camera = [new("cam", "synthetic:7", 5, 64, 64)];

        var rendered = Commissioning.NormalFootage(camera, 1, jpegQuality: null)[0];
        var streamed = Commissioning.NormalFootage(camera, 1)[0];

        Assert.Equal(5, streamed.Count);
        var expected = ImageCodec.DecodeFrame(ImageCodec.EncodeJpeg(rendered[3], CameraPumpOptions.DefaultJpegQuality));
        Assert.Equal(expected.Bgr, streamed[3].Bgr);
        Assert.NotEqual(rendered[3].Bgr, streamed[3].Bgr);
    }

    private static Frame[] Camera() => [.. Enumerable.Range(0, 8).Select(_ => Plain(90)), Plain(255), Plain(255)];

    private static Frame Plain(byte value) => new(16, 16, Enumerable.Repeat(value, 16 * 16 * 3).ToArray());
}
