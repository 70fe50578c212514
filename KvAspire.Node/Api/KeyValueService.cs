using System.Diagnostics;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Replication;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The public gRPC API, and the one place a request's route is decided. Each handler validates the
/// request (bad input is refused with INVALID_ARGUMENT before anything else happens, so it changes
/// nothing), locates its key on the ring, and awaits the one path that owns it from there: the
/// <see cref="ReplicationPath"/> for a key of this position, the <see cref="Forwarder"/> for any other.
/// It maps the answer to the reply (or to the status the client sees) and sends the executing leader's
/// address as a trailer. Before a handler runs, the interceptors have checked the cluster secret,
/// admitted the request (F1) and started its metrics.
/// </summary>
[BindServiceMethod(typeof(KeyValueBinding), nameof(KeyValueBinding.BindService))]
public sealed class KeyValueService(ClusterTopology topology, LocalRing ring, ReplicationPath replication, Forwarder forwarder)
    : KeyValue.KeyValueBase
{
    public const int MaxClientIdBytes = 256;

    public override async Task<WriteReply> Create(CreateRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(new KvOperation(OperationKind.Create, Key(request.Key), Value(request.Value), null, RequestId(request.Id)),
            context));

    public override async Task<ReadReply> Read(ReadRequest request, ServerCallContext context)
    {
        var answer = await ExecuteAsync(new KvOperation(OperationKind.Read, Key(request.Key)), context);
        return new ReadReply
        {
            Value = UnsafeByteOperations.UnsafeWrap(answer.Result.Value),
            Version = answer.Result.Version,
            TimestampUnixMs = answer.Result.TimestampUnixMs,
            Hops = answer.Hops,
        };
    }

    public override async Task<WriteReply> Update(UpdateRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(new KvOperation(OperationKind.Update, Key(request.Key), Value(request.Value),
            request.HasExpectedVersion ? Version(request.ExpectedVersion) : null, RequestId(request.Id)), context));

    public override async Task<WriteReply> Delete(DeleteRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(new KvOperation(OperationKind.Delete, Key(request.Key), default,
            request.HasExpectedVersion ? Version(request.ExpectedVersion) : null, RequestId(request.Id)), context));

    private async Task<Answer> ExecuteAsync(KvOperation operation, ServerCallContext context)
    {
        var headers = context.RequestHeaders;
        var request = new PendingRequest(operation, Activity.Current?.Context ?? default, NodeHeaders.HopsSoFar(headers), NodeHeaders.HandedToLeader(headers))
        {
            Route = ring.Locate(operation.Key),
        };
        var answer = request.Route.Owner == ring.Position
            ? await replication.ExecuteAsync(request, context.CancellationToken)
            : await forwarder.ForwardAsync(request, context.CancellationToken);
        if (answer.Leader is { } leader)
            context.ResponseTrailers.Add(LeaderHint.Trailer, leader);
        return answer.Result.IsOk ? answer : throw StatusMapping.ToRpcException(answer.Result);
    }

    private static WriteReply ToWriteReply(Answer answer) =>
        new() { Version = answer.Result.Version, TimestampUnixMs = answer.Result.TimestampUnixMs, Hops = answer.Hops };

    private static string Key(string key)
    {
        if (key.Length == 0)
            throw Invalid("the key is empty");
        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > ClusterTopology.MaxKeyBytes)
            throw Invalid($"the key is {bytes} bytes; the limit is {ClusterTopology.MaxKeyBytes}");
        return key;
    }

    private ReadOnlyMemory<byte> Value(ByteString value)
    {
        if (value.Length > topology.MaxValueBytes)
            throw Invalid($"the value is {value.Length} bytes; the limit is {topology.MaxValueBytes}");
        return value.Memory;
    }

    private static long Version(long expected) =>
        expected >= 1 ? expected : throw Invalid($"expected version {expected} is not a version (versions start at 1)");

    private static ClientRequestId? RequestId(V1.RequestId? id)
    {
        if (id is null)
            return null;
        if (id.ClientId.Length == 0)
            throw Invalid("the request id has an empty client id");
        if (Encoding.UTF8.GetByteCount(id.ClientId) > MaxClientIdBytes)
            throw Invalid($"the request id's client id is over {MaxClientIdBytes} bytes");
        return new ClientRequestId(id.ClientId, id.Sequence);
    }

    private static RpcException Invalid(string detail) => new(new Status(StatusCode.InvalidArgument, detail));
}
