using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Detection;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Cameras;
using StreamAnomaly.Ingest.Clips;
using StreamAnomaly.Synthetic.Live;
using StreamAnomaly.Vision.Detectors;
using StreamAnomaly.Vision.Detectors.Autoencoder;
using StreamAnomaly.Vision.Detectors.PatchCore;
using StreamAnomaly.Vision.Streaming;
using StreamAnomaly.Vision.Training;
using static TorchSharp.torch;

namespace StreamAnomaly.Host;

/// <summary>How the demo commissions its detector.</summary>
/// <param name="Seconds">Seconds of each camera's footage used (at the camera's frame rate).</param>
/// <param name="Percentile">Calibration percentile of the held-out normal scores.</param>
/// <param name="GridSize">Residual grid cells per side.</param>
public sealed record CommissioningOptions(double Seconds = 40, double Percentile = 99.5, int GridSize = 16)
{
    /// <summary>
    /// The detector commissioned (a catalog name). PatchCore by default: in the demo it alarmed on
    /// 3 of 3 injected anomalies against the autoencoder's 2 of 3, neither with a false alarm
    /// (docs/patchcore.md).
    /// </summary>
    public string Detector { get; init; } = PatchCoreDetector.Name;

    /// <summary>Its options as <c>name=value</c>, laid over its defaults (PatchCore at the cameras' 128 px, a third of 224 px's cost).</summary>
    public IReadOnlyList<string> Settings { get; init; } = ["size=128"];

    /// <summary>The autoencoder as the demo has always commissioned it: 64 px, narrow, a few epochs (seconds on 2 cores).</summary>
    public static CommissioningOptions Autoencoder(int size, int epochs, double seconds = 40) =>
        new(seconds) { Detector = AutoencoderDetector.Name, Settings = AutoencoderSettings(size, epochs) };

    private static string[] AutoencoderSettings(int size, int epochs) =>
        [$"size={size}", "width=16", "code=256", $"epochs={epochs}", "batch=16", "learningRate=0.002", "colourJitter=false"];
}

/// <summary>
/// Commissioning: learn what normal looks like from the cameras' first frames, before the plant
/// goes live. Renders each synthetic camera's first <see cref="CommissioningOptions.Seconds"/>
/// (the same pure function of seed and time the camera itself streams, so no anomaly can be in
/// it), fits the chosen detector on the first four fifths of each camera's footage and calibrates
/// it on the last fifth: later footage, as the threshold will meet, not frames 0.2 s from the
/// training frames (near-copies that a nearest-neighbour detector scores almost zero).
/// </summary>
public static class Commissioning
{
    /// <summary>
    /// The normal footage of each synthetic camera among <paramref name="cameras"/> (others are
    /// skipped), in time order, as a worker receives it: JPEG-compressed at
    /// <paramref name="jpegQuality"/> (the camera pump's) and decoded; null keeps the rendered frames.
    /// A detector fitted on frames without the JPEG artefacts it will meet scores every streamed frame
    /// higher (PatchCore's fine patch features see the 8x8 blocks).
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<Frame>> NormalFootage(IEnumerable<CameraOptions> cameras, double seconds, int? jpegQuality = CameraPumpOptions.DefaultJpegQuality)
    {
        var footage = new List<IReadOnlyList<Frame>>();
        foreach (var camera in cameras)
        {
            var source = SyntheticCameraSource.TryCreate(camera, TimeProvider.System);
            if (source is null)
            {
                continue;
            }

            var count = (int)Math.Ceiling(seconds * camera.Fps);
            footage.Add(Enumerable.Range(0, count).Select(k => AsStreamed(source.Cell.Render(k / camera.Fps, camera.Width, camera.Height).Frame, jpegQuality)).ToArray());
        }

        return footage;
    }

    private static Frame AsStreamed(Frame frame, int? jpegQuality) =>
        jpegQuality is { } quality ? ImageCodec.DecodeFrame(ImageCodec.EncodeJpeg(frame, quality)) : frame;

    /// <summary>
    /// Fits <see cref="CommissioningOptions.Detector"/> on the first four fifths of each camera's
    /// <paramref name="footage"/> and calibrates it on the last fifth (<see cref="DetectorLifecycle"/>,
    /// as <c>train</c> does); returns the bundle and the detector.
    /// </summary>
    /// <param name="footage">Normal frames per camera, in time order.</param>
    /// <param name="options">The detector, its settings and the calibration percentile.</param>
    /// <param name="progress">Receives the training progress.</param>
    public static TrainedBundle Train(IReadOnlyList<IReadOnlyList<Frame>> footage, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(footage);
        ArgumentNullException.ThrowIfNull(options);
        var frames = footage.Sum(static f => f.Count);
        if (frames < 10 || footage.Any(static f => f.Count < 5))
        {
            throw new ArgumentException($"commissioning needs at least 10 normal frames and 5 per camera, got {frames} from {footage.Count} cameras (are the cameras synthetic?)", nameof(footage));
        }

        var definition = DetectorCatalog.Get(options.Detector);
        var split = footage.Select(static f => f.Count - (f.Count / 5)).ToArray();
        var set = new TrainingSet(
            footage.Select((f, c) => new FrameClip($"commissioning-{c}", f.Take(split[c]).ToArray())).ToArray(),
            footage.Select((f, c) => new FrameClip($"commissioning-held-out-{c}", f.Skip(split[c]).ToArray())).ToArray(),
            TrainingFrames.AllNormal,
            options.Percentile);
        var detectorOptions = DetectorOptionsJson.With(definition.Defaults, options.Settings);
        return DetectorLifecycle.Train(definition, detectorOptions, set, new FitContext(CPU, Seed: 0, progress), TimeProvider.System);
    }

    /// <summary><see cref="Train"/>, as the streaming scorer a worker uses.</summary>
    public static DetectorFrameScorer Scorer(IReadOnlyList<IReadOnlyList<Frame>> footage, CommissioningOptions options, IProgress<TrainingProgress>? progress = null)
    {
        var trained = Train(footage, options, progress);
        return new DetectorFrameScorer(trained.Detector, trained.Bundle.Manifest.Calibrations[trained.Detector.Variants[0]], options.GridSize);
    }
}
