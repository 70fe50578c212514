using System.Diagnostics;
using Grpc.Core;
using KvAspire.Groups;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.Routing;

namespace KvAspire.Node.Api;

/// <summary>
/// The one place a client's operation is routed, for every public service: it locates the operation on the
/// ring and awaits the one path that owns it from there: the <see cref="ReplicationPath"/> for this
/// position's, the <see cref="Forwarder"/> for any other. A request routed with an older layout than this
/// node's is refused with the layout (<see cref="StaleRoute"/>), before anything is done with it; one
/// routed with a newer layout waits until this node has it. A forward refused that way routes again with
/// the newer layout, as does a request its own group refuses because it no longer owns the key (its
/// claim): this node learns the newer layout first. A lease's call its group refuses because the lease lives
/// with a key elsewhere (it moved with it) is routed by that key. It sends the executing leader's address as a trailer
/// and maps a failure (or a result that is not OK) to the status the client sees.
/// </summary>
public sealed class RequestExecution(LocalRing ring, LayoutCatchUp catchUp, ReplicationPath replication, Forwarder forwarder)
{
    /// <exception cref="RpcException">The operation failed, or its result is not OK.</exception>
    public async Task<Answer> ExecuteAsync(KvOperation operation, ServerCallContext context)
    {
        var routedWith = StaleRoute.EpochOf(context.RequestHeaders);
        Answer answer;
        try
        {
            if (routedWith is { } newer)
                await catchUp.ReachAsync(newer, $"the request was routed with ring epoch {newer}", context.CancellationToken);
            answer = await RouteAsync(operation, routedWith, context);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
        if (answer.Leader is { } leader)
            context.ResponseTrailers.Add(LeaderHint.Trailer, leader);
        return answer.Result.IsOk ? answer : throw StatusMapping.ToRpcException(answer.Result);
    }

    private async Task<Answer> RouteAsync(KvOperation operation, long? routedWith, ServerCallContext context)
    {
        var hops = NodeHeaders.HopsSoFar(context.RequestHeaders);
        while (true)
        {
            var view = ring.Current;
            if (routedWith is { } epoch && epoch < view.Layout.Epoch)
                throw StaleRoute.Refusal(epoch, view.Layout, $"{(hops == 0 ? "this node" : "the node it was forwarded to")} routes with a newer one");
            var (routed, route) = view.Route(operation);
            var request = new PendingRequest(routed, Activity.Current?.Context ?? default, hops) { Route = route };
            try
            {
                if (route.Owner != ring.Position)
                    return await forwarder.ForwardAsync(request, view, context.CancellationToken);
                var answer = await replication.ExecuteAsync(request, context.CancellationToken);
                if (answer.Result.Code != ResultCode.NotOwner)
                    return answer;
                if (answer.Result.Lease?.PlacedWith is { } home && home != operation.Key)
                {
                    // The lease moved (or is moving) with the key it lives with: route its call by that key.
                    operation = operation with { Key = home };
                    continue;
                }
                // This position's group gave the key away in a layout this node has not seen: learn it, route again.
                await catchUp.ReachAsync(view.Layout.Epoch + 1, $"position {ring.Position} does not own the key ({answer.Result.Detail})",
                    context.CancellationToken);
            }
            catch (StaleRouteException stale) when (ring.Adopt(stale.Layout) || ring.Epoch >= stale.Layout.Epoch)
            {
                // Routed again with the newer layout; a caller that routed with the older one hears of it.
            }
            catch (StaleRouteException stale)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"{stale.Message}; its layout (epoch {stale.Layout.Epoch}) is not this cluster's"));
            }
        }
    }
}
