using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// Which detectors score which camera. Each camera names its model bundles (its own, its line's or
/// the plant's default, see <c>PlantSettings.BundlesFor</c>); each bundle is one loaded scorer
/// however many cameras use it, so lines that film different machines share one worker pool, and
/// a new version of one bundle replaces one scorer without touching the cameras of other bundles.
/// Immutable: <see cref="With"/> returns new routes.
/// </summary>
public sealed class ScorerRoutes
{
    private readonly IReadOnlyDictionary<string, IFrameScorer> _scorers;
    private readonly IReadOnlyDictionary<string, string[]> _cameras;
    private readonly string[] _fallback;
    private readonly Dictionary<string, IFrameScorer[]> _routes = new(StringComparer.Ordinal);
    private readonly IFrameScorer[] _fallbackScorers;

    /// <param name="scorers">Bundle name (its path) -> its loaded scorer.</param>
    /// <param name="cameras">Camera id -> the bundles that score it, in order.</param>
    /// <param name="fallback">The bundles that score a camera <paramref name="cameras"/> does not name (may be empty).</param>
    /// <exception cref="ArgumentException">A route names a bundle <paramref name="scorers"/> lacks.</exception>
    public ScorerRoutes(IReadOnlyDictionary<string, IFrameScorer> scorers, IReadOnlyDictionary<string, string[]> cameras, IReadOnlyList<string> fallback)
    {
        ArgumentNullException.ThrowIfNull(scorers);
        ArgumentNullException.ThrowIfNull(cameras);
        ArgumentNullException.ThrowIfNull(fallback);
        _scorers = scorers;
        _cameras = cameras;
        _fallback = [.. fallback];
        _fallbackScorers = Resolve(_fallback);

        // cameras with the same bundles share one array, so a batch is split by reference
        var shared = new Dictionary<string, IFrameScorer[]>(StringComparer.Ordinal) { [string.Join('\n', _fallback)] = _fallbackScorers };
        foreach (var (camera, bundles) in cameras)
        {
            var key = string.Join('\n', bundles);
            if (!shared.TryGetValue(key, out var route))
            {
                route = Resolve(bundles);
                shared[key] = route;
            }

            _routes[camera] = route;
        }
    }

    /// <summary>Every camera scored by every one of <paramref name="scorers"/> (one model set for the whole plant), named by their index.</summary>
    public static ScorerRoutes Everywhere(IReadOnlyList<IFrameScorer> scorers)
    {
        ArgumentNullException.ThrowIfNull(scorers);
        var named = scorers.Select(static (s, i) => (Name: i.ToString(System.Globalization.CultureInfo.InvariantCulture), Scorer: s)).ToList();
        return new ScorerRoutes(named.ToDictionary(static p => p.Name, static p => p.Scorer), new Dictionary<string, string[]>(), [.. named.Select(static p => p.Name)]);
    }

    /// <summary>The bundles loaded, by name.</summary>
    public IReadOnlyDictionary<string, IFrameScorer> Scorers => _scorers;

    /// <summary>The scorers of <paramref name="camera"/>, in order; the same array for cameras with the same bundles; empty when none.</summary>
    public IReadOnlyList<IFrameScorer> For(string camera) => _routes.GetValueOrDefault(camera, _fallbackScorers);

    /// <summary>These routes with <paramref name="bundle"/>'s scorer replaced by <paramref name="scorer"/> (the caller disposes the old one).</summary>
    /// <exception cref="ArgumentException"><paramref name="bundle"/> is not one of these routes' bundles.</exception>
    public ScorerRoutes With(string bundle, IFrameScorer scorer)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (!_scorers.ContainsKey(bundle))
        {
            throw new ArgumentException($"no camera is routed to bundle '{bundle}' (routed: {string.Join(", ", _scorers.Keys)})", nameof(bundle));
        }

        var scorers = _scorers.ToDictionary(StringComparer.Ordinal);
        scorers[bundle] = scorer;
        return new ScorerRoutes(scorers, _cameras, _fallback);
    }

    private IFrameScorer[] Resolve(IEnumerable<string> bundles) =>
        [.. bundles.Select(b => _scorers.TryGetValue(b, out var scorer) ? scorer : throw new ArgumentException($"route names bundle '{b}', which is not loaded", nameof(bundles)))];
}
