using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>Bad input straight over gRPC: INVALID_ARGUMENT, and nothing changes.</summary>
[Trait("Category", "EndToEnd")]
public sealed class GrpcValidationTests : IAsyncLifetime
{
    private SingleNode _cluster = null!;
    private GrpcChannel _channel = null!;
    private KeyValue.KeyValueClient _kv = null!;

    public async Task InitializeAsync()
    {
        _cluster = await SingleNode.StartAsync(maxValueBytes: 100);
        _channel = GrpcChannel.ForAddress($"http://{_cluster.Topology.GrpcAddress}");
        _kv = new KeyValue.KeyValueClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _cluster.DisposeAsync();
    }

    private static RequestId Id(ulong sequence) => new() { ClientId = "grpc-test", Sequence = sequence };

    [Fact]
    public async Task Bad_requests_are_invalid_argument_and_change_nothing()
    {
        await _kv.CreateAsync(new CreateRequest { Key = "k", Value = ByteString.CopyFromUtf8("original"), Id = Id(1) });

        var bad = new (string Name, Func<Task> Call, string Message)[]
        {
            ("empty key", () => _kv.CreateAsync(new CreateRequest { Key = "", Value = ByteString.CopyFromUtf8("v"), Id = Id(2) }).ResponseAsync, "the key is empty"),
            ("long key", () => _kv.ReadAsync(new ReadRequest { Key = new string('k', 1025) }).ResponseAsync, "the key is 1025 bytes"),
            ("long multibyte key", () => _kv.DeleteAsync(new DeleteRequest { Key = new string('é', 513), Id = Id(3) }).ResponseAsync, "the key is 1026 bytes"),
            ("value over the limit", () => _kv.UpdateAsync(new UpdateRequest { Key = "k", Value = ByteString.CopyFrom(new byte[101]), Id = Id(4) }).ResponseAsync, "the value is 101 bytes; the limit is 100"),
            ("version 0", () => _kv.UpdateAsync(new UpdateRequest { Key = "k", Value = ByteString.CopyFromUtf8("v"), ExpectedVersion = 0, Id = Id(5) }).ResponseAsync, "expected version 0 is not a version"),
            ("negative version", () => _kv.DeleteAsync(new DeleteRequest { Key = "k", ExpectedVersion = -1, Id = Id(6) }).ResponseAsync, "expected version -1"),
            ("empty client id", () => _kv.DeleteAsync(new DeleteRequest { Key = "k", Id = new RequestId { Sequence = 7 } }).ResponseAsync, "empty client id"),
        };
        foreach (var (name, call, message) in bad)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{name}: {error.Status}");
            Assert.Contains(message, error.Status.Detail);
        }

        var read = await _kv.ReadAsync(new ReadRequest { Key = "k" });
        Assert.Equal("original", read.Value.ToStringUtf8());
        Assert.Equal(1, read.Version);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_key_is_invalid_argument()
    {
        // ReadRequest with field 1 (key) holding the bytes FF FE, which are not UTF-8.
        var method = new Method<byte[], byte[]>(MethodType.Unary, "kvaspire.v1.KeyValue", "Read",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var invoker = _channel.CreateCallInvoker();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            invoker.AsyncUnaryCall(method, null, new CallOptions(), [0x0A, 0x02, 0xFF, 0xFE]).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task A_retried_request_id_returns_the_first_result()
    {
        var create = new CreateRequest { Key = "once", Value = ByteString.CopyFromUtf8("v"), Id = Id(100) };
        var update = new UpdateRequest { Key = "once", Value = ByteString.CopyFromUtf8("w"), Id = Id(101) };

        var first = await _kv.CreateAsync(create);
        var firstUpdate = await _kv.UpdateAsync(update);
        var retriedCreate = await _kv.CreateAsync(create);
        var retriedUpdate = await _kv.UpdateAsync(update);

        Assert.Equal(first, retriedCreate);
        Assert.Equal(firstUpdate, retriedUpdate);
        Assert.Equal(2, (await _kv.ReadAsync(new ReadRequest { Key = "once" })).Version);
    }
}
