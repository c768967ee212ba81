using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// Runs the detectors on batches, on the dedicated inference dispatcher (a pinned thread), so
/// the blocking TorchSharp calls never hold up other actors. Owns the scorers and disposes them;
/// <see cref="SwapScorers"/> rolls out a newer bundle without a restart.
/// </summary>
public sealed class InferenceActor : ReceiveActor
{
    /// <summary>Dispatcher configured in akka.conf.</summary>
    public const string Dispatcher = "streamanomaly.inference-dispatcher";

    private IReadOnlyList<IFrameScorer> _scorers;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public InferenceActor(IReadOnlyList<IFrameScorer> scorers)
    {
        _scorers = scorers;
        Receive<ScoreBatch>(batch => Sender.Tell(Score(batch.Frames)));
        Receive<SwapScorers>(swap =>
        {
            var old = _scorers;
            _scorers = swap.Scorers;
            foreach (var scorer in old)
            {
                scorer.Dispose();
            }

            _log.Info("detectors replaced: {0}", string.Join(", ", _scorers.Select(static s => s.Detector)));
        });
    }

    /// <summary>Props on the inference dispatcher.</summary>
    public static Props Props(IReadOnlyList<IFrameScorer> scorers) =>
        Akka.Actor.Props.Create(() => new InferenceActor(scorers)).WithDispatcher(Dispatcher);

    protected override void PostStop()
    {
        foreach (var scorer in _scorers)
        {
            scorer.Dispose();
        }
    }

    private BatchScored Score(IReadOnlyList<IncomingFrame> frames)
    {
        var watch = Stopwatch.StartNew();
        var input = frames.Select(static f => (f.Metadata.Key, f.Image)).ToList();
        var partials = frames.Select(_ => new PartialResult[_scorers.Count]).ToArray();
        try
        {
            for (var d = 0; d < _scorers.Count; d++)
            {
                var scorer = _scorers[d];
                var verdicts = scorer.Score(input);
                for (var i = 0; i < frames.Count; i++)
                {
                    var meta = frames[i].Metadata;
                    var v = verdicts[i];
                    partials[i][d] = new PartialResult(meta.Key, meta.Line, meta.CaptureTime, scorer.Detector, _scorers.Count, v.RawScore, scorer.Calibration, v.Residual, v.Ignored, v.Phase, v.Reduction);
                }
            }

            return new BatchScored(frames, partials, watch.Elapsed, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.Error(e, "scoring a batch of {0} frames failed", frames.Count);
            return new BatchScored(frames, [], watch.Elapsed, e.Message);
        }
    }
}
