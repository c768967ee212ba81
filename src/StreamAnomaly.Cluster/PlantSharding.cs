using Akka.Actor;
using Akka.Cluster.Sharding;
using StreamAnomaly.Core.Streaming;

namespace StreamAnomaly.Cluster;

/// <summary>
/// The two sharded entity types: cameras (role ingest) and production lines (role aggregator).
/// Nodes with the role host the entities; other nodes reach them through proxies.
/// </summary>
public static class PlantSharding
{
    public const string CameraType = "camera";
    public const string LineType = "line";
    public const string IngestRole = "ingest";
    public const string WorkerRole = "worker";
    public const string AggregatorRole = "aggregator";

    /// <summary>
    /// Shards per entity type. Rule of thumb: about ten times the largest number of nodes hosting
    /// the type, so a rebalance moves small pieces; a plant has tens of lines and a few hundred
    /// cameras over a handful of nodes, hence 50.
    /// </summary>
    public const int Shards = 50;

    /// <summary>Starts the camera region on this (ingest) node.</summary>
    public static Task<IActorRef> StartCamerasAsync(ActorSystem system, Func<string, Props> entity) =>
        ClusterSharding.Get(system).StartAsync(CameraType, entity, ClusterShardingSettings.Create(system).WithRole(IngestRole), new CameraExtractor());

    /// <summary>Starts the line region on this (aggregator) node.</summary>
    public static Task<IActorRef> StartLinesAsync(ActorSystem system, Func<string, Props> entity) =>
        ClusterSharding.Get(system).StartAsync(LineType, entity, ClusterShardingSettings.Create(system).WithRole(AggregatorRole), new LineExtractor());

    /// <summary>A proxy to the camera region, for nodes without the ingest role.</summary>
    public static Task<IActorRef> CameraProxyAsync(ActorSystem system) =>
        ClusterSharding.Get(system).StartProxyAsync(CameraType, IngestRole, new CameraExtractor());

    /// <summary>A proxy to the line region, for nodes without the aggregator role.</summary>
    public static Task<IActorRef> LineProxyAsync(ActorSystem system) =>
        ClusterSharding.Get(system).StartProxyAsync(LineType, AggregatorRole, new LineExtractor());

    /// <summary>Routes camera messages by camera id.</summary>
    public sealed class CameraExtractor() : HashCodeMessageExtractor(Shards)
    {
        public override string? EntityId(object message) => message switch
        {
            EnsureCamera m => m.Camera,
            InjectAnomaly m => m.Camera,
            _ => null,
        };
    }

    /// <summary>Routes line messages by line id.</summary>
    public sealed class LineExtractor() : HashCodeMessageExtractor(Shards)
    {
        public override string? EntityId(object message) => message switch
        {
            PartialResult m => m.Line,
            GetLineStatus m => m.Line,
            _ => null,
        };
    }
}
