using Grpc.Core;

namespace KvAspire.Groups;

/// <summary>
/// How a node tells its caller which leader executed a request: the response trailer <see cref="Trailer"/>
/// holds that leader's <see cref="Cluster.NodeInfo.GrpcEndPoint"/>.
/// </summary>
public static class LeaderHint
{
    public const string Trailer = "kvaspire-leader";

    /// <summary>The leader the trailers name; null when they name none.</summary>
    public static string? Of(Metadata trailers) => trailers.GetValue(Trailer);
}
