using System.Globalization;
using Grpc.Core;

namespace KvAspire.Node.Api;

/// <summary>
/// The request headers a node adds when it calls another node's public API: how many ring hops the
/// request has taken, and whether a follower handed it to its own leader. A call that carries either
/// changes how it is routed, so only a member may send it (<see cref="ClusterSecretInterceptor"/>), and it
/// already holds an admission slot on the node its client contacted (<see cref="AdmissionInterceptor"/>).
/// </summary>
public static class NodeHeaders
{
    /// <summary>Server-to-server forwards so far.</summary>
    public const string Hops = "kvaspire-hops";

    /// <summary>A follower handed this request to the leader of its own position.</summary>
    public const string ToLeader = "kvaspire-to-leader";

    public static bool FromNode(Metadata headers) => headers.GetValue(Hops) is not null || headers.GetValue(ToLeader) is not null;

    public static int HopsSoFar(Metadata headers) =>
        int.TryParse(headers.GetValue(Hops), NumberStyles.None, CultureInfo.InvariantCulture, out var hops) ? hops : 0;

    public static bool HandedToLeader(Metadata headers) => headers.GetValue(ToLeader) is not null;

    public static string Text(int hops) => hops.ToString(CultureInfo.InvariantCulture);
}
