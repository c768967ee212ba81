using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// Runs the detectors on batches, on the dedicated inference dispatcher (a pinned thread), so
/// the blocking TorchSharp calls never hold up other actors. A batch holds frames of any cameras:
/// the frames of cameras routed to the same bundles (<see cref="ScorerRoutes"/>) are scored
/// together, and a detector that fails loses only its own cameras' frames. Owns the scorers and
/// disposes them; <see cref="ReplaceBundle"/> rolls out a newer bundle without a restart.
/// </summary>
public sealed class InferenceActor : ReceiveActor
{
    /// <summary>Dispatcher configured in akka.conf.</summary>
    public const string Dispatcher = "streamanomaly.inference-dispatcher";

    private ScorerRoutes _routes;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public InferenceActor(ScorerRoutes routes)
    {
        _routes = routes;
        Receive<ScoreBatch>(batch => Sender.Tell(Score(batch.Frames)));
        Receive<SwapScorers>(swap =>
        {
            var old = _routes.Scorers.Values.Except(swap.Routes.Scorers.Values).ToList();
            _routes = swap.Routes;
            old.ForEach(static s => s.Dispose());
            _log.Info("detectors replaced: {0}", string.Join(", ", _routes.Scorers.Select(static p => $"{p.Key} ({p.Value.Detector})")));
        });
        Receive<ReplaceBundle>(replace =>
        {
            if (!_routes.Scorers.TryGetValue(replace.Bundle, out var old))
            {
                _log.Warning("bundle {0} replaced, but no camera is routed to it", replace.Bundle);
                replace.Scorer.Dispose();
                return;
            }

            _routes = _routes.With(replace.Bundle, replace.Scorer);
            old.Dispose();
            _log.Info("bundle {0} replaced ({1})", replace.Bundle, replace.Scorer.Detector);
        });
    }

    /// <summary>Props on the inference dispatcher.</summary>
    public static Props Props(ScorerRoutes routes) =>
        Akka.Actor.Props.Create(() => new InferenceActor(routes)).WithDispatcher(Dispatcher);

    protected override void PostStop()
    {
        foreach (var scorer in _routes.Scorers.Values)
        {
            scorer.Dispose();
        }
    }

    private BatchScored Score(IReadOnlyList<IncomingFrame> frames)
    {
        var watch = Stopwatch.StartNew();
        var partials = new PartialResult[frames.Count][];
        string? error = null;
        var groups = Enumerable.Range(0, frames.Count).GroupBy(i => _routes.For(frames[i].Metadata.Key.Camera));
        foreach (var group in groups)
        {
            var scorers = group.Key;
            var members = group.ToList();
            try
            {
                ScoreGroup(frames, members, scorers, partials);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log.Error(e, "scoring {0} frames with {1} failed", members.Count, string.Join(", ", scorers.Select(static s => s.Detector)));
                error = e.Message;
                members.ForEach(i => partials[i] = []);
            }
        }

        return new BatchScored(frames, partials, watch.Elapsed, error);
    }

    private static void ScoreGroup(IReadOnlyList<IncomingFrame> frames, List<int> members, IReadOnlyList<IFrameScorer> scorers, PartialResult[][] partials)
    {
        if (scorers.Count == 0)
        {
            throw new InvalidOperationException($"no detector is routed to camera {frames[members[0]].Metadata.Key.Camera}");
        }

        var input = members.Select(i => (frames[i].Metadata.Key, frames[i].Image)).ToList();
        var scored = members.Select(_ => new PartialResult[scorers.Count]).ToArray();
        for (var d = 0; d < scorers.Count; d++)
        {
            var scorer = scorers[d];
            var verdicts = scorer.Score(input);
            for (var m = 0; m < members.Count; m++)
            {
                var meta = frames[members[m]].Metadata;
                var v = verdicts[m];
                scored[m][d] = new PartialResult(meta.Key, meta.Line, meta.CaptureTime, scorer.Detector, scorers.Count, v.RawScore, scorer.Calibration, v.Residual, v.Ignored, v.Phase, v.Reduction, scorer.Model);
            }
        }

        for (var m = 0; m < members.Count; m++)
        {
            partials[members[m]] = scored[m];
        }
    }
}
