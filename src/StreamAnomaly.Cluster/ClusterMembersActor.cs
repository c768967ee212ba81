using Akka.Actor;
using Akka.Cluster;

namespace StreamAnomaly.Cluster;

/// <summary>Reports the number of Up members per role whenever membership changes (for the cluster-members gauge and readiness).</summary>
public sealed class ClusterMembersActor : ReceiveActor
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);

    public ClusterMembersActor(Action<IReadOnlyDictionary<string, int>> report)
    {
        Receive<ClusterEvent.IMemberEvent>(_ => Report(report));
        Receive<ClusterEvent.CurrentClusterState>(_ => Report(report));
        Receive<ClusterEvent.IReachabilityEvent>(_ => Report(report));
    }

    public static Props Props(Action<IReadOnlyDictionary<string, int>> report) => Akka.Actor.Props.Create(() => new ClusterMembersActor(report));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Report(Action<IReadOnlyDictionary<string, int>> report)
    {
        var state = _cluster.State;
        var up = state.Members.Where(m => m.Status == MemberStatus.Up && !state.Unreachable.Contains(m)).ToList();
        report(NodeOptions.KnownRoles.ToDictionary(r => r, r => up.Count(m => m.HasRole(r))));
    }
}
