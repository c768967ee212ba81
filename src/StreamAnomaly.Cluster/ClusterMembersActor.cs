using Akka.Actor;
using Akka.Cluster;

namespace StreamAnomaly.Cluster;

/// <summary>
/// Reports the number of reachable Up members per role whenever membership changes (for the
/// cluster-members gauge). Tracks membership from the events themselves: <c>Cluster.State</c>
/// lags behind the events it would be read on. Members are told apart by their unique address: a
/// node restarted at the same host and port is a new member, whatever the old one's reachability.
/// </summary>
public sealed class ClusterMembersActor : ReceiveActor
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly Dictionary<UniqueAddress, Member> _up = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];

    public ClusterMembersActor(Action<IReadOnlyDictionary<string, int>> report)
    {
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            _up.Clear();
            foreach (var member in state.Members.Where(static m => m.Status == MemberStatus.Up))
            {
                _up[member.UniqueAddress] = member;
            }

            _unreachable.Clear();
            _unreachable.UnionWith(state.Unreachable.Select(static m => m.UniqueAddress));
            Report(report);
        });
        Receive<ClusterEvent.MemberUp>(e =>
        {
            _up[e.Member.UniqueAddress] = e.Member;
            Report(report);
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            var changed = e.Member.Status != MemberStatus.Up && _up.Remove(e.Member.UniqueAddress);
            if (e is ClusterEvent.MemberRemoved)
            {
                changed |= _unreachable.Remove(e.Member.UniqueAddress);
            }

            if (changed)
            {
                Report(report);
            }
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable.Add(e.Member.UniqueAddress);
            Report(report);
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.UniqueAddress);
            Report(report);
        });
    }

    public static Props Props(Action<IReadOnlyDictionary<string, int>> report) => Akka.Actor.Props.Create(() => new ClusterMembersActor(report));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Report(Action<IReadOnlyDictionary<string, int>> report)
    {
        var reachable = _up.Values.Where(m => !_unreachable.Contains(m.UniqueAddress)).ToList();
        report(NodeOptions.KnownRoles.ToDictionary(r => r, r => reachable.Count(m => m.HasRole(r))));
    }
}
