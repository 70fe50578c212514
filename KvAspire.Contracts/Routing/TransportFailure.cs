using Grpc.Core;

namespace KvAspire.Routing;

/// <summary>
/// grpc-dotnet reports a connection the server closed before the call could start (a node shutting down
/// sends GOAWAY) as INTERNAL, with the HTTP error inside. To a caller that is the node being unavailable,
/// and the request safe to send elsewhere (writes carry their request id).
/// </summary>
public static class TransportFailure
{
    public static bool IsUnavailable(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable
        || (e.StatusCode == StatusCode.Internal && e.Status.DebugException is HttpRequestException or IOException);

    /// <summary>
    /// The call never reached the node or its connection died (no answer from the node itself, which would
    /// carry no transport exception): the node, or the link to it, is down.
    /// </summary>
    public static bool IsUnreachable(RpcException e) => IsUnavailable(e) && e.Status.DebugException is not null;

    /// <summary>The same failure with UNAVAILABLE as its status when it is one.</summary>
    public static RpcException AsUnavailable(RpcException e) =>
        e.StatusCode != StatusCode.Unavailable && IsUnavailable(e)
            ? new RpcException(new Status(StatusCode.Unavailable, e.Status.Detail, e.Status.DebugException))
            : e;

    /// <summary>
    /// A write to a call's request stream fails with the transport's own exception, not an RpcException, when
    /// the node closes the connection under it (an HttpProtocolException, an IOException; or the call already
    /// over): as UNAVAILABLE, the same failure as a call the server closed. Null for anything else.
    /// </summary>
    public static RpcException? OfStreamWrite(Exception e) => e switch
    {
        RpcException rpc => rpc,
        IOException or HttpRequestException or InvalidOperationException => new RpcException(new Status(StatusCode.Unavailable, e.Message, e)),
        _ => null,
    };
}
