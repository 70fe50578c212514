using Grpc.Core;
using KvAspire.Groups;
using KvAspire.V1;

namespace KvAspire.Operations;

/// <summary>
/// One operation as one call of the public API (a lease operation of the Lease service), for every caller that sends one: the client library,
/// and a node forwarding to the next position. The answer's hops are those the node called reports.
/// </summary>
public static class KeyValueCalls
{
    /// <exception cref="RpcException">The status the node answered, when not OK.</exception>
    public static async Task<Answer> SendAsync(CallInvoker invoker, KvOperation operation, CallOptions options)
    {
        if (LeaseMessages.IsLease(operation))
            return await LeaseMessages.SendAsync(new Lease.LeaseClient(invoker), operation, options);
        var client = new KeyValue.KeyValueClient(invoker);
        switch (operation.Kind)
        {
            case OperationKind.Read:
                using (var call = client.ReadAsync(OperationMessages.ToReadRequest(operation), options))
                {
                    var read = await call;
                    return new Answer(OperationMessages.ToResult(read), read.Hops, LeaderHint.Of(call.GetTrailers()));
                }
            case OperationKind.Create:
                return await WrittenAsync(client.CreateAsync(OperationMessages.ToCreateRequest(operation), options));
            case OperationKind.Update:
                return await WrittenAsync(client.UpdateAsync(OperationMessages.ToUpdateRequest(operation), options));
            case OperationKind.Delete:
                return await WrittenAsync(client.DeleteAsync(OperationMessages.ToDeleteRequest(operation), options));
            case OperationKind.List:
                using (var call = client.ListAsync(ListMessages.ToRequest(operation.List!), options))
                {
                    var page = ListMessages.ToPage(await call);
                    return new Answer(new OperationResult(ResultCode.Ok, Listed: page), 0, LeaderHint.Of(call.GetTrailers()));
                }
            case OperationKind.Txn:
                using (var call = client.TxnAsync(OperationMessages.ToTxnRequest(operation), options))
                {
                    var reply = await call;
                    return new Answer(OperationMessages.ToResult(reply), reply.Hops, LeaderHint.Of(call.GetTrailers()));
                }
            default:
                throw new ArgumentException($"{operation.Kind} is not an operation of the API", nameof(operation));
        }
    }

    private static async Task<Answer> WrittenAsync(AsyncUnaryCall<WriteReply> call)
    {
        using (call)
        {
            var reply = await call;
            return new Answer(OperationMessages.ToResult(reply), reply.Hops, LeaderHint.Of(call.GetTrailers()));
        }
    }
}
