using Aspire.Hosting.ApplicationModel;
using KvAspire.Cluster;

namespace KvAspire.Hosting;

/// <summary>
/// A KvAspire cluster on the dashboard: the parent of one resource per ring position, each the parent of
/// its nodes. Its connection string names every node's gRPC endpoint and the topology file
/// (<c>Endpoints=host:port,…;Topology=/path/cluster.json</c>), which the client integration reads: with the
/// topology, the client goes straight to each key's leader.
/// </summary>
public sealed class KvAspireClusterResource(string name, ClusterTopology topology, string clusterFile) : Resource(name), IResourceWithConnectionString
{
    public ClusterTopology Topology { get; } = topology;

    public string ClusterFile { get; } = clusterFile;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Endpoints={string.Join(",", Topology.Nodes.Select(n => n.GrpcEndPoint))};Topology={ClusterFile}");
}

/// <summary>One ring position of a cluster on the dashboard: the parent of its replicas.</summary>
public sealed class KvAspirePositionResource(string name, int position, KvAspireClusterResource cluster) : Resource(name), IResourceWithParent<KvAspireClusterResource>
{
    public int Position { get; } = position;

    public KvAspireClusterResource Parent { get; } = cluster;
}
