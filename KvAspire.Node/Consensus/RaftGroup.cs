using System.Net;
using KvAspire.Cluster;
using Microsoft.AspNetCore.Connections;

namespace KvAspire.Node.Consensus;

/// <summary>
/// The Raft group this node belongs to: the replicas of its ring position, each reached for Raft at
/// <c>http(s)://host:RaftPort/raft</c>. Membership is static, from the topology.
/// </summary>
public sealed class RaftGroup(ClusterTopology topology, NodeInfo self)
{
    /// <summary>The path Raft's messages go to on each node's RaftPort.</summary>
    public const string Path = "/raft";

    public NodeInfo Self { get; } = self;

    public IReadOnlyList<NodeInfo> Members { get; } =
        topology.ReplicasOf(self.Position);

    /// <summary>The names of <see cref="Members"/>.</summary>
    public IReadOnlySet<string> MemberNames => field ??= Members.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="name"/> (a name a certificate gives, or none) is a member of this group.</summary>
    public bool IsMemberName(string? name) => name is not null && MemberNames.Contains(name);

    public static Uri AddressOf(NodeInfo node) => new($"{node.HttpUri}{Path}");

    /// <summary>The member whose Raft address is <paramref name="endPoint"/>.</summary>
    public NodeInfo NodeOf(EndPoint endPoint) =>
        Members.FirstOrDefault(n => IsAt(endPoint, n))
        ?? throw new InvalidOperationException($"{endPoint} is not a member of position {Self.Position}'s group");

    /// <summary>
    /// Whether <paramref name="endPoint"/> is a Raft address of <paramref name="node"/>: its host and
    /// RaftPort, whatever the path (a replacement answers at a path of its own).
    /// </summary>
    public static bool IsAt(EndPoint endPoint, NodeInfo node) =>
        endPoint is UriEndPoint { Uri: var uri } && uri.Port == node.RaftPort && string.Equals(uri.Host, node.Host, StringComparison.OrdinalIgnoreCase);
}
