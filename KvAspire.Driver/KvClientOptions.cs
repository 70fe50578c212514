using KvAspire.Cluster;

namespace KvAspire.Driver;

/// <summary>Where the cluster is and how long a call may take.</summary>
public sealed class KvClientOptions
{
    /// <summary>Nodes to call (<c>host:port</c> or a URL). Empty: every node of <see cref="Topology"/>.</summary>
    public IList<string> Nodes { get; set; } = [];

    /// <summary>
    /// The cluster's topology, when the client can read it (<c>cluster.json</c>): then each call goes
    /// straight to its key's leader once the cluster has named it (0 hops), and errors name the position.
    /// </summary>
    public ClusterTopology? Topology { get; set; }

    /// <summary>The deadline of each call, retries across nodes included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The nodes to call: <see cref="Nodes"/>, or else the topology's.</summary>
    /// <exception cref="ArgumentException">Neither names a node, or the timeout is not positive.</exception>
    public IReadOnlyList<string> Validate()
    {
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"the request timeout must be positive, not {RequestTimeout}");
        IReadOnlyList<string> nodes = Nodes.Count > 0 ? [.. Nodes] : Topology?.Nodes.Select(n => n.GrpcEndPoint).ToArray() ?? [];
        return nodes.Count > 0 ? nodes : throw new ArgumentException("no node to call: give Nodes or a Topology");
    }
}
