using Google.Protobuf;
using Grpc.Net.Client;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A retried request id over raw gRPC, as any client generated from the proto sends it, against a real node.
/// (Bad input is tested in process: <c>Unit/RequestValidationTests</c>.)
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class GrpcRequestIdTests : IAsyncLifetime
{
    private SingleNode _cluster = null!;
    private GrpcChannel _channel = null!;
    private KeyValue.KeyValueClient _kv = null!;

    public async Task InitializeAsync()
    {
        _cluster = await SingleNode.StartAsync();
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
