using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Configuration;
using KvAspire.Node.Storage;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// Turns a public request into a command, or refuses it with INVALID_ARGUMENT before it reaches any
/// queue, so bad input changes nothing.
/// </summary>
public sealed class RequestValidator(ClusterTopology topology)
{
    public const int MaxClientIdBytes = 256;

    public KvOperation Create(CreateRequest request) =>
        new(OperationKind.Create, Key(request.Key), Value(request.Value), null, RequestId(request.Id));

    public static KvOperation Read(ReadRequest request) => new(OperationKind.Read, Key(request.Key));

    public KvOperation Update(UpdateRequest request) =>
        new(OperationKind.Update, Key(request.Key), Value(request.Value),
            request.HasExpectedVersion ? Version(request.ExpectedVersion) : null, RequestId(request.Id));

    public static KvOperation Delete(DeleteRequest request) =>
        new(OperationKind.Delete, Key(request.Key), default,
            request.HasExpectedVersion ? Version(request.ExpectedVersion) : null, RequestId(request.Id));

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
