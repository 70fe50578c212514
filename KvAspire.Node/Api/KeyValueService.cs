using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Groups;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The public gRPC API of keys. Each handler validates the request (bad input is refused with
/// INVALID_ARGUMENT before anything else happens, so it changes nothing) and hands it to
/// <see cref="RequestExecution"/>, which routes it; a list asks every position itself.
/// A watch gathers its positions' event streams into one (<see cref="WatchSession"/>).
/// It maps the answer to the reply. Before a handler runs, the interceptors have checked the cluster secret,
/// admitted the request (F1) and started its metrics.
/// </summary>
[BindServiceMethod(typeof(KeyValueBinding), nameof(KeyValueBinding.BindService))]
public sealed class KeyValueService(ClusterTopology topology, LocalRing ring, LayoutCatchUp catchUp, RequestExecution execution, ReplicationPath replication,
    Forwarder forwarder, PeerClients peers, PositionEvents events, IHostApplicationLifetime lifetime)
    : KeyValue.KeyValueBase
{
    public override async Task<WriteReply> Create(CreateRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(OperationMessages.ToOperation(request, topology.MaxValueBytes), context));

    public override async Task<ReadReply> Read(ReadRequest request, ServerCallContext context)
    {
        var answer = await ExecuteAsync(OperationMessages.ToOperation(request), context);
        return OperationMessages.ToReadReply(answer.Result, answer.Hops);
    }

    public override async Task<WriteReply> Update(UpdateRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(OperationMessages.ToOperation(request, topology.MaxValueBytes), context));

    public override async Task<WriteReply> Delete(DeleteRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(OperationMessages.ToOperation(request), context));

    public override async Task<TxnReply> Txn(TxnRequest request, ServerCallContext context)
    {
        var txn = OperationMessages.ToOperation(request, topology.MaxValueBytes);
        var positions = txn.Txn!.Keys.Select(key => ring.Locate(key).Owner).Distinct().Order().ToList();
        if (positions.Count > 1)
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"the transaction's keys live on positions {string.Join(", ", positions)}; a transaction runs on one position" +
                (ring.Ids.PlacementTags ? ": give its keys one {tag}" : " (this ring does not place keys by {tag})")));
        var answer = await ExecuteAsync(txn, context);
        return OperationMessages.ToTxnReply(answer.Result, answer.Hops, positions[0]);
    }

    public override async Task<ListReply> List(ListRequest request, ServerCallContext context)
    {
        var query = ListMessages.ToQuery(request);
        var trace = Activity.Current?.Context ?? default;
        var hops = NodeHeaders.HopsSoFar(context.RequestHeaders);
        try
        {
            return ListMessages.ToReply(await ListRingAsync(query, trace, hops, context.CancellationToken));
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    /// <summary>
    /// The ring's page, from every position's part. Each part holds only its position's claim; a part whose
    /// claim is newer than the layout the parts were gathered by (a move this node has not heard of, or one
    /// under way, whose keys no part may hold yet) sends this node to learn that layout, then to gather again.
    /// </summary>
    private async Task<ListPage> ListRingAsync(ListQuery query, ActivityContext trace, int hops, CancellationToken cancellationToken)
    {
        while (true)
        {
            var view = ring.Current;
            var parts = await Task.WhenAll(Enumerable.Range(0, view.Ids.Positions).Select(position => ListPartAsync(position, query, trace, hops, cancellationToken)));
            var newest = parts.Max(part => part.ClaimEpoch);
            if (newest <= view.Layout.Epoch)
                return ListMerge.Merge(parts, query.Limit, query.MaxBytes);
            await catchUp.ReachAsync(newest, $"position {parts.First(part => part.ClaimEpoch == newest).Position} holds a range of ring epoch {newest} " +
                "(a move under way, or one this node has not heard of)", cancellationToken);
        }
    }

    /// <summary>A position's part of a list: read here when it is this node's, else asked of one of its replicas.</summary>
    private async Task<ListPart> ListPartAsync(int position, ListQuery query, ActivityContext trace, int hops, CancellationToken cancellationToken)
    {
        if (position == ring.Position)
        {
            var listed = await replication.ListAsync(query, trace, hops, cancellationToken);
            return new ListPart(position, listed.Revision, listed.Listed!.Keys, listed.Listed.More, listed.Listed.ClaimEpoch);
        }
        var reply = await forwarder.CallPositionAsync(position,
            (node, deadline) => peers.ListPositionAsync(node, ListMessages.ToPositionRequest(position, query), deadline, cancellationToken), cancellationToken);
        var page = ListMessages.ToPage(reply);
        return new ListPart(position, reply.Revision, page.Keys, page.More, page.ClaimEpoch);
    }

    public override async Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchReply> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken))
            return;
        var create = requestStream.Current.Create ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "a watch starts with a create request"));
        var query = WatchMessages.ToQuery(create);
        var start = WatchMessages.ToStart(create, topology.PositionsWithSpares);
        int[] positions = query.Prefix ? [.. Enumerable.Range(0, ring.Ids.Positions)] : [ring.Locate(query.Key).Owner];
        await new WatchSession(events, ReadRevisionAsync, lifetime).RunAsync(query, create.ProgressNotify, positions, start, requestStream, responseStream,
            context.CancellationToken);
    }

    /// <summary>A position's revision at a linearizable point: read here when it is this node's, else asked of one of its replicas.</summary>
    private Task<long> ReadRevisionAsync(int position, CancellationToken cancellationToken) =>
        position == ring.Position
            ? replication.ReadRevisionAsync(cancellationToken)
            : forwarder.CallPositionAsync(position, (node, deadline) => peers.ReadRevisionAsync(node, position, deadline, cancellationToken), cancellationToken);

    private Task<Answer> ExecuteAsync(KvOperation operation, ServerCallContext context) => execution.ExecuteAsync(operation, context);

    private static WriteReply ToWriteReply(Answer answer) => OperationMessages.ToWriteReply(answer.Result, answer.Hops);
}
