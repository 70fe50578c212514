using KvAspire.Cluster;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A KvAspire cluster on the dashboard: the parent of one resource per ring position, each the parent of
/// its nodes. Its connection string names every serving node's gRPC endpoint (<c>Endpoints=host:port,…</c>: not
/// the spares', which may not run; a position added later is learned from the cluster's layout), and
/// with TLS the CA's file (<c>;Ca=…</c>), and nothing else: the client learns the ring's layout from the
/// cluster, wherever it runs.
/// </summary>
public sealed class KvAspireClusterResource(string name, ClusterTopology topology, string clusterFile) : Resource(name), IResourceWithConnectionString
{
    /// <summary>The state of the cluster, or of a position, while it cannot serve every key it should (after Running).</summary>
    public const string NotReadyState = "Not ready";

    public ClusterTopology Topology { get; } = topology;

    public string ClusterFile { get; } = clusterFile;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Endpoints={string.Join(",", Topology.Nodes.Where(n => !n.Spare).Select(n => n.GrpcEndPoint))}{(Topology.Tls is { } tls ? $";Ca={tls.AuthorityPath}" : "")}");
}

/// <summary>One ring position of a cluster on the dashboard: the parent of its replicas.</summary>
public sealed class KvAspirePositionResource(string name, int position, KvAspireClusterResource cluster) : Resource(name), IResourceWithParent<KvAspireClusterResource>
{
    public int Position { get; } = position;

    public KvAspireClusterResource Parent { get; } = cluster;
}
