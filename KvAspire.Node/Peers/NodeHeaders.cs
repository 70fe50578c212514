using System.Globalization;
using Grpc.Core;

namespace KvAspire.Node.Peers;

/// <summary>
/// The request header a node adds when it forwards a request to another node's public API: how many ring
/// hops the request has taken. A call that carries it changes how it is routed, so only a member may send
/// it (<see cref="MemberCallInterceptor"/>), and it already holds an admission slot on the node its
/// client contacted (<see cref="AdmissionInterceptor"/>).
/// </summary>
public static class NodeHeaders
{
    /// <summary>Server-to-server forwards so far.</summary>
    public const string Hops = "kvaspire-hops";

    public static bool FromNode(Metadata headers) => headers.GetValue(Hops) is not null;

    public static int HopsSoFar(Metadata headers) =>
        int.TryParse(headers.GetValue(Hops), NumberStyles.None, CultureInfo.InvariantCulture, out var hops) ? hops : 0;

    public static string Text(int hops) => hops.ToString(CultureInfo.InvariantCulture);
}
