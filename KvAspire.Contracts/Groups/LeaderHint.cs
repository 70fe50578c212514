namespace KvAspire.Groups;

/// <summary>
/// How a node tells its caller which leader executed a request: the response trailer <see cref="Trailer"/>
/// holds that leader's <see cref="Configuration.NodeInfo.GrpcEndPoint"/>. The client reads the same constant.
/// </summary>
public static class LeaderHint
{
    public const string Trailer = "kvaspire-leader";
}
