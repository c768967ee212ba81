using Akka.Actor;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>Makes sure the camera's actor runs (sent periodically by every ingest node's keeper).</summary>
public sealed record EnsureCamera(string Camera);

/// <summary>Command: show an anomaly of <paramref name="Kind"/> on a synthetic camera.</summary>
public sealed record InjectAnomaly(string Camera, string Kind);

/// <summary>Reply to <see cref="InjectAnomaly"/>: <paramref name="Error"/> is null when it was accepted.</summary>
public sealed record AnomalyInjection(string Camera, string Kind, DateTimeOffset At, string? Error);

/// <summary>The aggregator has the frames' results: their worker may commit them.</summary>
public sealed record FramesAccepted(FrameKey[] Frames);

/// <summary>Query: the state of a line.</summary>
public sealed record GetLineStatus(string Line);

/// <summary>Reply to <see cref="GetLineStatus"/>.</summary>
public sealed record LineStatus(string Line, AlarmEvent? ActiveAlarm, int PendingFrames);

/// <summary>Local only (never crosses nodes): a decoded frame from the feed, with pixels.</summary>
internal sealed record FrameArrived(IncomingFrame Frame) : INoSerializationVerificationNeeded;

/// <summary>Local only: a batch for the inference actor.</summary>
internal sealed record ScoreBatch(IReadOnlyList<IncomingFrame> Frames) : INoSerializationVerificationNeeded;

/// <summary>
/// Local only: the inference actor's answer, the partial results of each frame in order; a frame
/// whose detectors failed has none, and <paramref name="Error"/> says why.
/// </summary>
internal sealed record BatchScored(IReadOnlyList<IncomingFrame> Frames, IReadOnlyList<PartialResult[]> Partials, TimeSpan Took, string? Error)
    : INoSerializationVerificationNeeded;

/// <summary>Local only: replace every detector and route; the scorers no longer routed are disposed.</summary>
public sealed record SwapScorers(ScorerRoutes Routes) : INoSerializationVerificationNeeded;

/// <summary>Local only: a newer version of one bundle; only the cameras routed to it change detector, and its old scorer is disposed.</summary>
public sealed record ReplaceBundle(string Bundle, IFrameScorer Scorer) : INoSerializationVerificationNeeded;

/// <summary>Journal entry of a line aggregator: the sink called <paramref name="Sink"/> published the alarm event with <paramref name="IdempotencyKey"/>.</summary>
public sealed record AlarmSent(string Sink, string IdempotencyKey);

/// <summary>A sink's alarm events not published yet, oldest first.</summary>
public sealed record UnsentAlarms(string Sink, IReadOnlyList<AlarmEvent> Alarms);

/// <summary>A line aggregator's snapshot: its state and what each sink still has to publish.</summary>
public sealed record LineJournalSnapshot(LineSnapshot State, IReadOnlyList<UnsentAlarms> Unsent);
