using Grpc.Core;
using Grpc.Core.Interceptors;
using KvAspire.Node.Peers;

namespace KvAspire.Node.Api;

/// <summary>
/// Owns the member check on the gRPC port: an Admin call, a Replica call, or a call that says it comes
/// from another node (<see cref="NodeHeaders"/>), is refused with PERMISSION_DENIED unless it proves a
/// member's (the secret, a member certificate: <see cref="PeerAuthentication"/>). A client's own calls
/// need neither. (Raft's messages are checked in Program.cs.)
/// </summary>
public sealed class MemberCallInterceptor(PeerAuthentication peers) : Interceptor
{
    private const string AdminService = "/kvaspire.v1.Admin/";
    private const string ReplicaService = "/kvaspire.v1.Replica/";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        var admin = context.Method.StartsWith(AdminService, StringComparison.Ordinal);
        if (!admin && !context.Method.StartsWith(ReplicaService, StringComparison.Ordinal) && !NodeHeaders.FromNode(context.RequestHeaders))
            return;
        if (peers.NotMember(context) is { } reason)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{(admin ? "an admin request" : "a node-to-node request")} from a caller that is not a member: {reason}"));
    }
}
