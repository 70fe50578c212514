using Grpc.Core;
using KvAspire.Node.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The public gRPC API of leases: each call validated, then routed by <see cref="RequestExecution"/> (a
/// grant by the key it is placed with, any other call by that key when it names it, else by the position its
/// lease id names, which sends it on when the lease moved with its key); a grant gets at
/// least <see cref="NodeOptions.MinLeaseTtl"/>. A keep-alive
/// stream answers each request in order; a lease that is gone is answered with TTL 0, and the stream goes on.
/// </summary>
[BindServiceMethod(typeof(V1.Lease), nameof(V1.Lease.BindService))]
public sealed class LeaseService(RequestExecution execution, LeaseDeadlines deadlines, NodeOptions options) : V1.Lease.LeaseBase
{
    /// <summary>A TTL below the lease minimum is raised to it; the reply says the TTL granted.</summary>
    public override async Task<LeaseGrantReply> Grant(LeaseGrantRequest request, ServerCallContext context)
    {
        var grant = LeaseMessages.ToOperation(request);
        if (request.TtlMs < options.MinLeaseTtl.TotalMilliseconds)
            grant = grant with { Value = LeaseIds.EncodeTtl((long)options.MinLeaseTtl.TotalMilliseconds) };
        var answer = await execution.ExecuteAsync(grant, context);
        return LeaseMessages.ToGrantReply(answer.Result, answer.Hops);
    }

    public override async Task KeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveReply> responseStream,
        ServerCallContext context)
    {
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            LeaseKeepAliveReply reply;
            try
            {
                var answer = await execution.ExecuteAsync(LeaseMessages.ToOperation(request), context);
                reply = new LeaseKeepAliveReply { Lease = request.Lease, TtlMs = answer.Result.Lease!.TtlMs };
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                reply = new LeaseKeepAliveReply { Lease = request.Lease };
            }
            await responseStream.WriteAsync(reply, context.CancellationToken);
        }
    }

    public override async Task<LeaseRevokeReply> Revoke(LeaseRevokeRequest request, ServerCallContext context) =>
        new() { Revision = (await execution.ExecuteAsync(LeaseMessages.ToOperation(request), context)).Result.Revision };

    /// <summary>The lease's time left by the clock of this node when its position serves the lease, else as the replica that answered says.</summary>
    public override async Task<LeaseTimeToLiveReply> TimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        var lease = (await execution.ExecuteAsync(LeaseMessages.ToOperation(request), context)).Result.Lease!;
        if (deadlines.Remaining(lease.Id) is { } remaining)
            lease = lease with { RemainingMs = (long)remaining.TotalMilliseconds };
        return LeaseMessages.ToTimeToLiveReply(lease);
    }
}
