using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The calls a position's replicas make of each other over gRPC, answered by the leader: <c>ReadIndex</c>
/// for a follower that serves linearizable reads (<see cref="FollowerReads"/>), and <c>HandOffWrites</c>
/// for the writes a follower's clients sent it (<see cref="LeaderHandOff"/>); and, of any replica,
/// <c>ListPosition</c>, its position's part of a list another node gathers, and <c>WatchPosition</c>, its
/// position's events for a watch another node serves, and <c>ReadRevision</c>, its position's revision
/// at a linearizable point for a watch's progress request; and a move's steps, asked by the giver's
/// leader that drives it (<see cref="RangeMoves"/>, <see cref="RangeTransfer"/>), and followed by the node
/// that started it (<see cref="MoveDriver"/>). Every call needs the
/// cluster secret when there is one (<see cref="MemberCallInterceptor"/>); none takes an admission
/// slot, since each request it serves holds one on the follower.
/// </summary>
public sealed class ReplicaService(ClusterTopology topology, LocalRing ring, ReplicationPath replication, PositionEvents events, RangeTransfer transfer,
    MoveDriver driver, IHostApplicationLifetime lifetime) : Replica.ReplicaBase
{
    public const string HandOffWritesPath = "/kvaspire.v1.Replica/HandOffWrites";

    public override async Task<ReadIndexReply> ReadIndex(ReadIndexRequest request, ServerCallContext context)
    {
        try
        {
            return new() { Index = await replication.ConfirmReadIndexAsync(context.CancellationToken) };
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override async Task<ListPositionReply> ListPosition(ListPositionRequest request, ServerCallContext context)
    {
        EnsureServes(request.Position);
        try
        {
            var listed = await replication.ListAsync(ListMessages.ToQuery(request), System.Diagnostics.Activity.Current?.Context ?? default,
                NodeHeaders.HopsSoFar(context.RequestHeaders), context.CancellationToken);
            return ListMessages.ToPositionReply(listed, ring.Position);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override async Task<ReadRevisionReply> ReadRevision(ReadRevisionRequest request, ServerCallContext context)
    {
        EnsureServes(request.Position);
        try
        {
            return new ReadRevisionReply { Revision = await replication.ReadRevisionAsync(context.CancellationToken) };
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override async Task<ClaimRangeReply> ClaimRange(ClaimRangeRequest request, ServerCallContext context)
    {
        EnsureServes(request.Position);
        try
        {
            var claim = request.Claim is null ? null : OwnedRange.FromMessage(request.Claim);
            var fence = request.Fence is null ? null : MovePlan.FromMessage(request.Fence);
            var (held, move) = await transfer.ClaimAsync(claim, fence, request.DropUnclaimed, context.CancellationToken);
            return new ClaimRangeReply { Claim = held.ToMessage(), Move = move?.ToMessage() };
        }
        catch (FormatException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override async Task<MoveStatusReply> MoveStatus(MoveStatusRequest request, ServerCallContext context)
    {
        EnsureServes(request.Position);
        try
        {
            var (claim, move) = await transfer.ClaimAsync(null, null, dropUnclaimed: false, context.CancellationToken);
            return await driver.StatusAsync(request, claim, move, context.CancellationToken);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override async Task ExportRange(ExportRangeRequest request, IServerStreamWriter<RangePart> responseStream, ServerCallContext context)
    {
        EnsureServes(request.Position);
        try
        {
            var moving = OwnedRange.FromMessage(request.Moving);
            await foreach (var (part, keys, bytes, whole) in transfer.ExportAsync(moving, context.CancellationToken))
            {
                await responseStream.WriteAsync(new RangePart
                {
                    Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(part),
                    Keys = keys,
                    Bytes = bytes,
                    KeysTotal = whole.Keys,
                    BytesTotal = whole.Bytes,
                }, context.CancellationToken);
            }
        }
        catch (FormatException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override async Task<InstallRangeReply> InstallRange(InstallRangeRequest request, ServerCallContext context)
    {
        EnsureServes(request.Position);
        try
        {
            await transfer.InstallAsync(request.Epoch, request.First, request.Data.Memory, context.CancellationToken);
            return new InstallRangeReply();
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    public override Task<AdoptLayoutReply> AdoptLayout(Layout request, ServerCallContext context)
    {
        try
        {
            ring.Adopt(RingLayout.FromMessage(request));
            return Task.FromResult(new AdoptLayoutReply { Epoch = ring.Epoch });
        }
        catch (FormatException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }

    private void EnsureServes(int position)
    {
        if (position != ring.Position)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this node serves position {ring.Position}, not {position}"));
    }

    public override async Task WatchPosition(WatchPositionRequest request, IServerStreamWriter<WatchReply> responseStream, ServerCallContext context)
    {
        EnsureServes(request.Position);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await foreach (var batch in events.LocalAsync(WatchMessages.ToQuery(request), WatchMessages.ToStart(request), watching.Token))
                await responseStream.WriteAsync(WatchMessages.ToReply(batch), watching.Token);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw StatusMapping.Stopping();
        }
    }

    public override async Task<HandOffWritesReply> HandOffWrites(HandOffWritesRequest request, ServerCallContext context)
    {
        // Each write reaches the proposer before the next is started, so they are proposed in the order sent.
        var results = request.Writes.Select(write => ExecuteAsync(write, context.CancellationToken)).ToArray();
        var reply = new HandOffWritesReply();
        foreach (var result in results)
            reply.Results.Add(await result);
        return reply;
    }

    private async Task<HandedWriteResult> ExecuteAsync(HandedWrite write, CancellationToken cancellationToken)
    {
        try
        {
            var (operation, route) = ring.Current.Route(OperationMessages.ToOperation(write, topology.MaxValueBytes));
            var request = new PendingRequest(operation, NodeTelemetry.FromTraceParent(write.TraceParent), write.Hops, handedToLeader: true)
            {
                Route = route,
            };
            var result = (await replication.ExecuteAsync(request, cancellationToken)).Result;
            return result.IsOk
                ? OperationMessages.ToHandedWriteResult(result)
                : Failed(StatusMapping.ToRpcException(result));
        }
        catch (RequestFailedException failure)
        {
            return Failed(StatusMapping.ToRpcException(failure));
        }
        catch (RpcException invalid)
        {
            // The write itself is malformed (OperationMessages' validation).
            return Failed(invalid);
        }
    }

    private static HandedWriteResult Failed(RpcException e) => new() { Status = (int)e.StatusCode, Detail = e.Status.Detail };
}
