using System.Net;
using Microsoft.AspNetCore.Connections;
using KvAspire.Configuration;

namespace KvAspire.Node.Replication;

/// <summary>
/// The Raft group this node belongs to: the replicas of its ring position, each reached for Raft at
/// <c>http://host:RaftPort/raft</c>. Membership is static, from the topology.
/// </summary>
public sealed class RaftGroup(ClusterTopology topology, NodeInfo self)
{
    /// <summary>The path Raft's messages go to on each node's RaftPort.</summary>
    public const string Path = "/raft";

    public NodeInfo Self { get; } = self;

    public IReadOnlyList<NodeInfo> Members { get; } =
        [.. topology.Nodes.Where(n => n.Position == self.Position).OrderBy(n => n.Replica)];

    public static Uri AddressOf(NodeInfo node) => new($"http://{node.Host}:{node.RaftPort}{Path}");

    /// <summary>The member whose Raft address is <paramref name="endPoint"/>.</summary>
    public NodeInfo NodeOf(EndPoint endPoint) =>
        Members.FirstOrDefault(n => endPoint is UriEndPoint { Uri: var uri } && uri.Port == n.RaftPort
                                    && string.Equals(uri.Host, n.Host, StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException($"{endPoint} is not a member of position {Self.Position}'s group");
}
