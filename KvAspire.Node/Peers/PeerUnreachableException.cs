using KvAspire.Cluster;
using KvAspire.Node.Errors;

namespace KvAspire.Node.Peers;

/// <summary>
/// A call that never reached <see cref="Node"/>, or whose connection died: the node or the link to it is
/// down, not merely busy or leaderless (<see cref="PeerReachability"/> passes it over until it answers).
/// </summary>
public sealed class PeerUnreachableException(NodeInfo node, string detail, Exception inner)
    : RequestFailedException(FailureKind.Unavailable, detail, inner)
{
    public NodeInfo Node { get; } = node;
}
