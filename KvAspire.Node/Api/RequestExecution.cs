using System.Diagnostics;
using Grpc.Core;
using KvAspire.Groups;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Operations;

namespace KvAspire.Node.Api;

/// <summary>
/// The one place a client's operation is routed, for every public service: it locates the operation on the
/// ring and awaits the one path that owns it from there: the <see cref="ReplicationPath"/> for this
/// position's, the <see cref="Forwarder"/> for any other. It sends the executing leader's address as a
/// trailer and maps a failure (or a result that is not OK) to the status the client sees.
/// </summary>
public sealed class RequestExecution(LocalRing ring, ReplicationPath replication, Forwarder forwarder)
{
    /// <exception cref="RpcException">The operation failed, or its result is not OK.</exception>
    public async Task<Answer> ExecuteAsync(KvOperation operation, ServerCallContext context)
    {
        var (routed, route) = ring.Route(operation);
        var request = new PendingRequest(routed, Activity.Current?.Context ?? default, NodeHeaders.HopsSoFar(context.RequestHeaders))
        {
            Route = route,
        };
        Answer answer;
        try
        {
            answer = request.Route.Owner == ring.Position
                ? await replication.ExecuteAsync(request, context.CancellationToken)
                : await forwarder.ForwardAsync(request, context.CancellationToken);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
        if (answer.Leader is { } leader)
            context.ResponseTrailers.Add(LeaderHint.Trailer, leader);
        return answer.Result.IsOk ? answer : throw StatusMapping.ToRpcException(answer.Result);
    }
}
