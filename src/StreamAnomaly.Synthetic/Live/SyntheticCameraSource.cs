using System.Globalization;
using System.Runtime.CompilerServices;
using StreamAnomaly.Core.Imaging;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Synthetic.Scene;

namespace StreamAnomaly.Synthetic.Live;

/// <summary>Settings of a <see cref="SyntheticCameraSource"/>.</summary>
/// <param name="Width">Rendered width in pixels, &gt;= 8.</param>
/// <param name="Height">Rendered height in pixels, &gt;= 8.</param>
/// <param name="Fps">Render rate in frames per second, &gt; 0 (usually the camera's Fps).</param>
/// <param name="Scene">What the scene shows (people, hands, ...); its Anomaly must be null. Null: <see cref="SceneOptions.Background"/>.</param>
/// <param name="AnomalyEvery">When set, whoever runs the camera injects an anomaly this often (kinds in turn, see <see cref="ScheduledAnomalies"/>).</param>
public sealed record SyntheticCameraOptions(int Width = 128, int Height = 128, double Fps = 5, SceneOptions? Scene = null, TimeSpan? AnomalyEvery = null);

/// <summary>
/// The synthetic robot cell as a live camera (<see cref="IsLive"/> true). Frames are rendered at
/// scene time t = seconds elapsed on the injected <see cref="TimeProvider"/> since the first
/// <see cref="ReadAsync"/>, at <see cref="SyntheticCameraOptions.Fps"/> (each frame at the next
/// multiple of 1/Fps, waiting on the clock between frames, skipping slots it fell behind on), so the
/// same seed, options, times and injections give the same frames. <see cref="Inject"/> (any thread)
/// makes the next machine cycle anomalous for one cycle (see <see cref="LiveRobotCell"/>). Never
/// ends on its own; reading again continues the same timeline.
/// </summary>
public sealed class SyntheticCameraSource : ICameraSource, IAnomalyInjectable
{
    private readonly SyntheticCameraOptions _options;
    private readonly TimeProvider _time;
    private readonly LiveRobotCell _cell;
    private readonly Lock _startLock = new();
    private long? _startTimestamp;

    /// <param name="seed">Scene seed.</param>
    /// <param name="options">Size, rate and scene features.</param>
    /// <param name="time">The clock that drives scene time and pacing.</param>
    public SyntheticCameraSource(int seed, SyntheticCameraOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Width, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Height, 8);
        if (!(options.Fps > 0) || double.IsInfinity(options.Fps))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Fps, "Fps must be > 0");
        }

        _options = options;
        _time = time;
        _cell = new LiveRobotCell(seed, options.Scene ?? SceneOptions.Background);
    }

    /// <summary>The scene timeline behind this camera.</summary>
    public LiveRobotCell Cell => _cell;

    /// <summary>The settings this source was made with.</summary>
    public SyntheticCameraOptions Options => _options;

    /// <inheritdoc />
    public string Description => $"synthetic robot cell seed {_cell.Seed} ({_options.Width}x{_options.Height} at {_options.Fps:0.###} fps)";

    /// <inheritdoc />
    public bool IsLive => true;

    /// <inheritdoc />
    public IReadOnlyList<string> AnomalyKinds => LiveRobotCell.AnomalyKinds;

    /// <summary>
    /// The last frame rendered, with its scene time, cycle and anomaly (null before the first).
    /// </summary>
    public LiveFrame? LastFrame { get; private set; }

    /// <inheritdoc />
    public void Inject(string kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        _cell.Inject(LiveRobotCell.ParseKind(kind));
    }

    /// <summary>
    /// A source for a <c>synthetic:SEED[?people=true&amp;hands=true&amp;anomaly-every=SECONDS]</c> camera URI, or null for any
    /// other scheme: plug it into <c>CameraSources.Create</c>'s extra-schemes hook. Renders at the
    /// camera's Fps and published size (people also switch on shadows and lamp flicker, as
    /// <see cref="SceneOptions.WithPeople"/>). A malformed synthetic URI is an
    /// <see cref="ArgumentException"/> naming the camera and the value.
    /// </summary>
    public static SyntheticCameraSource? TryCreate(CameraOptions camera, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(camera);
        const string Prefix = "synthetic:";
        if (camera.Source is null || !camera.Source.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = camera.Source[Prefix.Length..];
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        var seedText = question < 0 ? rest : rest[..question];
        if (!int.TryParse(seedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed))
        {
            throw Bad(camera, $"the seed '{seedText}' is not an integer");
        }

        var scene = SceneOptions.Background;
        TimeSpan? every = null;
        if (question >= 0)
        {
            foreach (var pair in rest[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                if (parts.Length == 2 && parts[0].Equals("anomaly-every", StringComparison.OrdinalIgnoreCase))
                {
                    every = double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && double.IsFinite(seconds)
                        ? TimeSpan.FromSeconds(seconds)
                        : throw Bad(camera, $"anomaly-every must be a number of seconds > 0, got '{parts[1]}'");
                    continue;
                }

                if (parts.Length != 2 || !bool.TryParse(parts[1], out var on))
                {
                    throw Bad(camera, $"expected name=true|false or anomaly-every=SECONDS, got '{pair}'");
                }

                scene = parts[0].ToLowerInvariant() switch
                {
                    "people" => scene with { People = on, Shadows = on, LampFlicker = on },
                    "hands" => scene with { Hands = on },
                    _ => throw Bad(camera, $"unknown option '{parts[0]}' (people, hands, anomaly-every)"),
                };
            }
        }

        return new SyntheticCameraSource(seed, new SyntheticCameraOptions(camera.Width, camera.Height, camera.Fps, scene, every), time);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<Frame> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long start;
        lock (_startLock)
        {
            _startTimestamp ??= _time.GetTimestamp();
            start = _startTimestamp.Value;
        }

        var period = 1 / _options.Fps;
        var slot = -1L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var elapsed = _time.GetElapsedTime(start).TotalSeconds;
            var due = Math.Max(slot + 1, (long)Math.Ceiling((elapsed / period) - 1e-9));
            var wait = (due * period) - elapsed;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), _time, cancellationToken).ConfigureAwait(false);
            }

            slot = due;
            var frame = _cell.Render(due * period, _options.Width, _options.Height);
            LastFrame = frame;
            yield return frame.Frame;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static ArgumentException Bad(CameraOptions camera, string problem) =>
        new($"camera '{camera.Id}': invalid source '{camera.Source}': {problem}", nameof(camera));
}
