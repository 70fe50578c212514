using Grpc.Core;
using Grpc.Core.Interceptors;
using KvAspire.Cluster;
using KvAspire.Node.Peers;

namespace KvAspire.Node.Api;

/// <summary>
/// Owns the cluster secret check on the gRPC port: an Admin call, a Replica call, or a call that says it
/// comes from another node (<see cref="NodeHeaders"/>), is refused with PERMISSION_DENIED unless it presents the
/// secret (<see cref="PeerAuthentication"/>). A client's own calls need none. (Raft's messages are checked in Program.cs.)
/// </summary>
public sealed class ClusterSecretInterceptor(PeerAuthentication peers) : Interceptor
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
        var headers = context.RequestHeaders;
        if (!peers.IsMember(headers))
        {
            if (context.Method.StartsWith(AdminService, StringComparison.Ordinal))
                throw new RpcException(new Status(StatusCode.PermissionDenied, $"admin requests need the cluster secret ({ClusterSecret.Variable})"));
            if (context.Method.StartsWith(ReplicaService, StringComparison.Ordinal) || NodeHeaders.FromNode(headers))
                throw new RpcException(new Status(StatusCode.PermissionDenied, "a node-to-node request without the cluster secret"));
        }
    }
}
