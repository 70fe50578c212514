using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.V1;

namespace KvAspire.Operations;

/// <summary>
/// Operations to and from their gRPC messages, in one place: a client's request becomes a
/// <see cref="KvOperation"/> only once it is valid (INVALID_ARGUMENT with the reason otherwise), and a
/// node that passes an operation on sends it as the same message a client would.
/// </summary>
public static class OperationMessages
{
    public const int MaxClientIdBytes = 256;

    /// <summary>Comparisons and operations of a transaction, in all (etcd's default limit).</summary>
    public const int MaxTxnParts = 128;

    public static KvOperation ToOperation(ReadRequest request) => new(OperationKind.Read, Key(request.Key));

    public static KvOperation ToOperation(CreateRequest request, int maxValueBytes) =>
        new(OperationKind.Create, Key(request.Key), Value(request.Value, maxValueBytes), null, ToRequestId(request.Id), Lease: Lease(request.Lease));

    public static KvOperation ToOperation(UpdateRequest request, int maxValueBytes) =>
        new(OperationKind.Update, Key(request.Key), Value(request.Value, maxValueBytes),
            request.HasExpectedVersion ? Version(request.ExpectedVersion) : null, ToRequestId(request.Id), Lease: Lease(request.Lease));

    public static KvOperation ToOperation(DeleteRequest request) =>
        new(OperationKind.Delete, Key(request.Key), default, request.HasExpectedVersion ? Version(request.ExpectedVersion) : null, ToRequestId(request.Id));

    /// <summary>
    /// A transaction, routed by its first key; INVALID_ARGUMENT when it names no key, a bad key or value, more
    /// than <see cref="MaxTxnParts"/> parts, or a key put or deleted twice in one branch. (That all its keys
    /// live on one position is the node's to check: it knows the ring.)
    /// </summary>
    public static KvOperation ToOperation(TxnRequest request, int maxValueBytes)
    {
        var parts = request.Compare.Count + request.Success.Count + request.Failure.Count;
        if (parts > MaxTxnParts)
            throw Invalid($"the transaction has {parts} comparisons and operations; the limit is {MaxTxnParts}");
        var compares = request.Compare.Select(compare => new TransactionCompare(Key(compare.Key),
            Enum.IsDefined((CompareTarget)compare.Target) ? (CompareTarget)compare.Target : throw Invalid($"comparison target {(int)compare.Target} is not one"),
            Enum.IsDefined((CompareResult)compare.Result) ? (CompareResult)compare.Result : throw Invalid($"comparison result {(int)compare.Result} is not one"),
            compare.Number, Value(compare.Value, maxValueBytes))).ToList();
        var txn = new Transaction(compares, Branch(request.Success, "success", maxValueBytes), Branch(request.Failure, "failure", maxValueBytes));
        var first = txn.Keys.FirstOrDefault() ?? throw Invalid("the transaction names no key");
        return new KvOperation(OperationKind.Txn, first, RequestId: ToRequestId(request.Id), Txn: txn);
    }

    private static List<TransactionOp> Branch(IEnumerable<V1.TxnOp> ops, string name, int maxValueBytes)
    {
        var branch = ops.Select(op => op.OpCase switch
        {
            V1.TxnOp.OpOneofCase.Put => new TransactionOp(TransactionOpKind.Put, Key(op.Put.Key), Value(op.Put.Value, maxValueBytes)),
            V1.TxnOp.OpOneofCase.Delete => new TransactionOp(TransactionOpKind.Delete, Key(op.Delete)),
            V1.TxnOp.OpOneofCase.Read => new TransactionOp(TransactionOpKind.Read, Key(op.Read)),
            _ => throw Invalid($"an operation of the {name} branch is empty"),
        }).ToList();
        var twice = branch.Where(op => op.Kind != TransactionOpKind.Read).GroupBy(op => op.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return twice is null ? branch : throw Invalid($"the {name} branch changes key '{twice.Key}' more than once");
    }

    public static TxnRequest ToTxnRequest(KvOperation txn)
    {
        var definition = txn.Txn ?? throw new ArgumentException($"a {txn.Kind} is not a transaction", nameof(txn));
        var request = new TxnRequest { Id = ToMessage(txn.RequestId) };
        request.Compare.AddRange(definition.Compares.Select(compare => new Compare
        {
            Key = compare.Key,
            Target = (Compare.Types.Target)compare.Target,
            Result = (Compare.Types.Result)compare.Result,
            Number = compare.Number,
            Value = UnsafeByteOperations.UnsafeWrap(compare.Value),
        }));
        request.Success.AddRange(definition.Success.Select(ToMessage));
        request.Failure.AddRange(definition.Failure.Select(ToMessage));
        return request;
    }

    private static V1.TxnOp ToMessage(TransactionOp op) => op.Kind switch
    {
        TransactionOpKind.Put => new V1.TxnOp { Put = new TxnPut { Key = op.Key, Value = UnsafeByteOperations.UnsafeWrap(op.Value) } },
        TransactionOpKind.Delete => new V1.TxnOp { Delete = op.Key },
        _ => new V1.TxnOp { Read = op.Key },
    };

    /// <summary>A transaction's reply; <paramref name="position"/> is the one it ran on.</summary>
    public static TxnReply ToTxnReply(OperationResult result, int hops, int position)
    {
        var outcome = result.Txn ?? throw new ArgumentException("the result is not a transaction's", nameof(result));
        var reply = new TxnReply
        {
            Succeeded = outcome.Succeeded, Revision = result.Revision, Position = position, Hops = hops, TimestampUnixMs = result.TimestampUnixMs,
        };
        reply.Results.AddRange(outcome.Results.Select(op => new V1.TxnOpResult
        {
            Key = op.Key, Found = op.Found, Version = op.Version, CreateRevision = op.CreateRevision, ModRevision = op.ModRevision,
            Value = UnsafeByteOperations.UnsafeWrap(op.Value),
        }));
        return reply;
    }

    public static OperationResult ToResult(TxnReply reply) =>
        new(ResultCode.Ok, TimestampUnixMs: reply.TimestampUnixMs, Revision: reply.Revision, Txn: new TransactionOutcome(reply.Succeeded,
            [.. reply.Results.Select(op => new TransactionOpResult(op.Key, op.Found, op.Version, op.CreateRevision, op.ModRevision, op.Value.Memory))]));

    /// <summary>A handed-over write, validated as its client's request was.</summary>
    public static KvOperation ToOperation(HandedWrite write, int maxValueBytes) => write.WriteCase switch
    {
        HandedWrite.WriteOneofCase.Create => ToOperation(write.Create, maxValueBytes),
        HandedWrite.WriteOneofCase.Update => ToOperation(write.Update, maxValueBytes),
        HandedWrite.WriteOneofCase.Delete => ToOperation(write.Delete),
        HandedWrite.WriteOneofCase.Txn => ToOperation(write.Txn, maxValueBytes),
        HandedWrite.WriteOneofCase.LeaseGrant => LeaseMessages.ToOperation(write.LeaseGrant),
        HandedWrite.WriteOneofCase.LeaseKeepAlive => LeaseMessages.ToOperation(write.LeaseKeepAlive),
        HandedWrite.WriteOneofCase.LeaseRevoke => LeaseMessages.ToOperation(write.LeaseRevoke),
        _ => throw Invalid("a handed-over write with no operation"),
    };

    public static ReadRequest ToReadRequest(KvOperation read) => new() { Key = read.Key };

    public static CreateRequest ToCreateRequest(KvOperation create) =>
        new() { Key = create.Key, Value = UnsafeByteOperations.UnsafeWrap(create.Value), Id = ToMessage(create.RequestId), Lease = create.Lease };

    public static UpdateRequest ToUpdateRequest(KvOperation update)
    {
        var request = new UpdateRequest
        {
            Key = update.Key, Value = UnsafeByteOperations.UnsafeWrap(update.Value), Id = ToMessage(update.RequestId), Lease = update.Lease,
        };
        if (update.ExpectedVersion is { } expected)
            request.ExpectedVersion = expected;
        return request;
    }

    public static DeleteRequest ToDeleteRequest(KvOperation delete)
    {
        var request = new DeleteRequest { Key = delete.Key, Id = ToMessage(delete.RequestId) };
        if (delete.ExpectedVersion is { } expected)
            request.ExpectedVersion = expected;
        return request;
    }

    public static HandedWrite ToHandedWrite(KvOperation write, int hops, string traceParent)
    {
        var handed = new HandedWrite { Hops = hops, TraceParent = traceParent };
        switch (write.Kind)
        {
            case OperationKind.Create:
                handed.Create = ToCreateRequest(write);
                break;
            case OperationKind.Update:
                handed.Update = ToUpdateRequest(write);
                break;
            case OperationKind.Delete:
                handed.Delete = ToDeleteRequest(write);
                break;
            case OperationKind.Txn:
                handed.Txn = ToTxnRequest(write);
                break;
            case OperationKind.LeaseGrant:
                handed.LeaseGrant = LeaseMessages.ToGrantRequest(write);
                break;
            case OperationKind.LeaseKeepAlive:
                handed.LeaseKeepAlive = new LeaseKeepAliveRequest { Lease = write.Lease };
                break;
            case OperationKind.LeaseRevoke:
                handed.LeaseRevoke = new LeaseRevokeRequest { Lease = write.Lease };
                break;
            default:
                throw new ArgumentException($"a {write.Kind} is not a write", nameof(write));
        }
        return handed;
    }

    public static ReadReply ToReadReply(OperationResult read, int hops) => new()
    {
        Value = UnsafeByteOperations.UnsafeWrap(read.Value),
        Version = read.Version,
        TimestampUnixMs = read.TimestampUnixMs,
        Hops = hops,
        CreateRevision = read.CreateRevision,
        ModRevision = read.ModRevision,
        Revision = read.Revision,
    };

    public static OperationResult ToResult(ReadReply read) =>
        new(ResultCode.Ok, read.Version, read.TimestampUnixMs, read.Value.Memory,
            CreateRevision: read.CreateRevision, ModRevision: read.ModRevision, Revision: read.Revision);

    public static WriteReply ToWriteReply(OperationResult written, int hops) => new()
    {
        Version = written.Version,
        TimestampUnixMs = written.TimestampUnixMs,
        Hops = hops,
        CreateRevision = written.CreateRevision,
        ModRevision = written.ModRevision,
        Revision = written.Revision,
    };

    public static OperationResult ToResult(WriteReply written) =>
        new(ResultCode.Ok, written.Version, written.TimestampUnixMs,
            CreateRevision: written.CreateRevision, ModRevision: written.ModRevision, Revision: written.Revision);

    /// <summary>A handed-over write's successful result, as the leader answers it to the follower that handed it.</summary>
    public static HandedWriteResult ToHandedWriteResult(OperationResult written) => new()
    {
        Version = written.Version,
        TimestampUnixMs = written.TimestampUnixMs,
        CreateRevision = written.CreateRevision,
        ModRevision = written.ModRevision,
        Revision = written.Revision,
        Txn = written.Txn is null ? null : ToTxnReply(written, 0, 0),
        Lease = written.Lease?.Id ?? 0,
        LeaseTtlMs = written.Lease?.TtlMs ?? 0,
    };

    public static OperationResult ToResult(HandedWriteResult written) =>
        written.Txn is { } txn
            ? ToResult(txn)
            : new(ResultCode.Ok, written.Version, written.TimestampUnixMs,
                CreateRevision: written.CreateRevision, ModRevision: written.ModRevision, Revision: written.Revision,
                Lease: written.Lease == 0 ? null : new LeaseInfo(written.Lease, written.LeaseTtlMs, written.LeaseTtlMs, 0, []));

    internal static V1.RequestId? ToMessage(ClientRequestId? id) =>
        id is { } requestId ? new V1.RequestId { ClientId = requestId.ClientId, Sequence = requestId.Sequence } : null;

    internal static string Key(string key)
    {
        if (key.Length == 0)
            throw Invalid("the key is empty");
        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > ClusterTopology.MaxKeyBytes)
            throw Invalid($"the key is {bytes} bytes; the limit is {ClusterTopology.MaxKeyBytes}");
        return key;
    }

    private static ReadOnlyMemory<byte> Value(ByteString value, int maxValueBytes)
    {
        if (value.Length > maxValueBytes)
            throw Invalid($"the value is {value.Length} bytes; the limit is {maxValueBytes}");
        return value.Memory;
    }

    private static long Lease(long lease) =>
        lease == 0 || LeaseIds.IsValid(lease) ? lease : throw Invalid($"{lease} is not a lease id");

    private static long Version(long expected) =>
        expected >= 1 ? expected : throw Invalid($"expected version {expected} is not a version (versions start at 1)");

    internal static ClientRequestId? ToRequestId(V1.RequestId? id)
    {
        if (id is null)
            return null;
        if (id.ClientId.Length == 0)
            throw Invalid("the request id has an empty client id");
        if (Encoding.UTF8.GetByteCount(id.ClientId) > MaxClientIdBytes)
            throw Invalid($"the request id's client id is over {MaxClientIdBytes} bytes");
        return new ClientRequestId(id.ClientId, id.Sequence);
    }

    /// <summary>A request refused as malformed, before it changes anything.</summary>
    internal static RpcException Invalid(string detail) => new(new Status(StatusCode.InvalidArgument, detail));
}
