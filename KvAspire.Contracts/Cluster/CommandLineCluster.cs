namespace KvAspire.Cluster;

/// <summary>
/// Where a command-line tool's calls go: the nodes given (<c>--node</c>), or else those of the topology
/// file given (<c>--cluster</c>), or else of <c>cluster.json</c> in the working directory when there is
/// one; and that topology, when a file was read.
/// </summary>
public sealed record CommandLineCluster(string[] Nodes, ClusterTopology? Topology)
{
    public const string DefaultFile = "cluster.json";

    /// <exception cref="TopologyException">The file given, or <c>cluster.json</c>, is not a valid topology.</exception>
    public static CommandLineCluster Resolve(string[]? nodes, string? clusterPath)
    {
        var topology = clusterPath is not null || File.Exists(DefaultFile) ? TopologyLoader.Load(clusterPath ?? DefaultFile) : null;
        return new(nodes is { Length: > 0 } ? nodes : topology?.Nodes.Select(n => n.GrpcEndPoint).ToArray() ?? [], topology);
    }
}
