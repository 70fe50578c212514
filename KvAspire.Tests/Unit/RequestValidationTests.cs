using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Node.Api;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace KvAspire.Tests.Unit;

/// <summary>
/// Bad input over gRPC to the real <see cref="KeyValueService"/> and its request binding, on an in-process
/// server whose Raft group is a stand-in: INVALID_ARGUMENT with the reason, and nothing reaches Raft.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RequestValidationTests : IAsyncLifetime
{
    private readonly RequestPathParts _node = new(replicas: 1, maxValueBytes: 100);
    private WebApplication _server = null!;
    private GrpcChannel _channel = null!;
    private KeyValue.KeyValueClient _kv = null!;

    private IRaftCluster Raft => _node.Raft;

    public async Task InitializeAsync()
    {
        Raft.Leader.Returns((IClusterMember?)null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_node.Topology);
        builder.Services.AddSingleton(_node.Ring);
        builder.Services.AddSingleton(_node.Replication);
        builder.Services.AddSingleton(_node.Forwarder);
        builder.Services.AddSingleton(_node.CatchUp);
        builder.Services.AddSingleton<RequestExecution>();
        builder.Services.AddSingleton(_node.Peers);
        builder.Services.AddSingleton(_node.Events);
        _server = builder.Build();
        _server.MapGrpcService<KeyValueService>();
        await _server.StartAsync();
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = _server.GetTestServer().CreateHandler() });
        _kv = new KeyValue.KeyValueClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
        _node.Dispose();
    }

    private static RequestId Id(ulong sequence) => new() { ClientId = "grpc-test", Sequence = sequence };

    public static TheoryData<string, string> BadRequests => new()
    {
        { "empty key", "the key is empty" },
        { "long key", "the key is 1025 bytes" },
        { "long multibyte key", "the key is 1026 bytes" },
        { "value over the limit", "the value is 101 bytes; the limit is 100" },
        { "version 0", "expected version 0 is not a version" },
        { "negative version", "expected version -1" },
        { "empty client id", "the request id has an empty client id" },
        { "long client id", "the request id's client id is over 256 bytes" },
        { "txn with no key", "the transaction names no key" },
        { "txn of 129 parts", "the transaction has 129 comparisons and operations; the limit is 128" },
        { "txn changing a key twice", "the success branch changes key 'k' more than once" },
        { "txn with an empty operation", "an operation of the failure branch is empty" },
        { "txn comparing an unknown field", "comparison target 9 is not one" },
        { "txn putting too much", "the value is 101 bytes; the limit is 100" },
        { "list of 10001", "limit 10001 is not from 1 to 10000" },
        { "list with a long prefix", "the prefix is over 1024 bytes" },
        { "list with a forged token", "the page token is not one this API gave" },
        { "watch of no key", "a watch of one key needs the key" },
        { "watch with a long prefix", "the prefix is over 1024 bytes" },
        { "watch from a position the cluster lacks", "the start names position 3; this cluster has positions 0 to 0" },
        { "watch from a position twice", "the start names position 0 twice" },
        { "watch from a negative revision", "the start's revision for position 0 is negative (-1)" },
        { "watch without a create request", "a watch starts with a create request" },
    };

    /// <summary>A watch whose first request is <paramref name="request"/>, until its first reply or its failure.</summary>
    private async Task Watch(WatchRequest request)
    {
        using var call = _kv.Watch();
        await call.RequestStream.WriteAsync(request);
        await call.ResponseStream.MoveNext();
    }

    private Task Watch(WatchCreate create, params (int Position, long Revision)[] start)
    {
        create.Start.AddRange(start.Select(part => new PositionRevision { Position = part.Position, Revision = part.Revision }));
        return Watch(new WatchRequest { Create = create });
    }

    private static TxnOp Put(string key) => new() { Put = new TxnPut { Key = key, Value = ByteString.CopyFromUtf8("v") } };

    private static TxnRequest Txn(IEnumerable<Compare> compares, IEnumerable<TxnOp> success, IEnumerable<TxnOp>? failure = null)
    {
        var txn = new TxnRequest { Id = Id(8) };
        txn.Compare.AddRange(compares);
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure ?? []);
        return txn;
    }

    private Task Send(string name) => name switch
    {
        "empty key" => _kv.CreateAsync(new CreateRequest { Key = "", Value = ByteString.CopyFromUtf8("v"), Id = Id(2) }).ResponseAsync,
        "long key" => _kv.ReadAsync(new ReadRequest { Key = new string('k', 1025) }).ResponseAsync,
        "long multibyte key" => _kv.DeleteAsync(new DeleteRequest { Key = new string('é', 513), Id = Id(3) }).ResponseAsync,
        "value over the limit" => _kv.UpdateAsync(new UpdateRequest { Key = "k", Value = ByteString.CopyFrom(new byte[101]), Id = Id(4) }).ResponseAsync,
        "version 0" => _kv.UpdateAsync(new UpdateRequest { Key = "k", Value = ByteString.CopyFromUtf8("v"), ExpectedVersion = 0, Id = Id(5) }).ResponseAsync,
        "negative version" => _kv.DeleteAsync(new DeleteRequest { Key = "k", ExpectedVersion = -1, Id = Id(6) }).ResponseAsync,
        "empty client id" => _kv.DeleteAsync(new DeleteRequest { Key = "k", Id = new RequestId { Sequence = 7 } }).ResponseAsync,
        "txn with no key" => _kv.TxnAsync(Txn([], [])).ResponseAsync,
        "txn of 129 parts" => _kv.TxnAsync(Txn([], Enumerable.Range(0, 129).Select(i => Put($"k{i}")))).ResponseAsync,
        "txn changing a key twice" => _kv.TxnAsync(Txn([], [Put("k"), new TxnOp { Read = "k" }, new TxnOp { Delete = "k" }])).ResponseAsync,
        "txn with an empty operation" => _kv.TxnAsync(Txn([], [Put("k")], [new TxnOp()])).ResponseAsync,
        "txn comparing an unknown field" => _kv.TxnAsync(Txn([new Compare { Key = "k", Target = (Compare.Types.Target)9 }], [])).ResponseAsync,
        "list of 10001" => _kv.ListAsync(new ListRequest { Limit = 10_001 }).ResponseAsync,
        "list with a long prefix" => _kv.ListAsync(new ListRequest { Prefix = new string('p', 1025) }).ResponseAsync,
        "list with a forged token" => _kv.ListAsync(new ListRequest { PageToken = ByteString.CopyFrom(0xFF, 0xFE) }).ResponseAsync,
        "watch of no key" => Watch(new WatchCreate()),
        "watch with a long prefix" => Watch(new WatchCreate { Key = new string('p', 1025), Prefix = true }),
        "watch from a position the cluster lacks" => Watch(new WatchCreate { Key = "k" }, (3, 1)),
        "watch from a position twice" => Watch(new WatchCreate { Key = "k" }, (0, 1), (0, 2)),
        "watch from a negative revision" => Watch(new WatchCreate { Key = "k" }, (0, -1)),
        "watch without a create request" => Watch(new WatchRequest()),
        "txn putting too much" => _kv.TxnAsync(Txn([], [new TxnOp { Put = new TxnPut { Key = "k", Value = ByteString.CopyFrom(new byte[101]) } }])).ResponseAsync,
        _ => _kv.CreateAsync(new CreateRequest { Key = "k", Value = ByteString.CopyFromUtf8("v"), Id = new RequestId { ClientId = new string('c', 257) } })
            .ResponseAsync,
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_is_INVALID_ARGUMENT_with_its_reason_and_reaches_nothing(string name, string reason)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Send(name));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(reason, error.Status.Detail);
        Assert.Empty(Raft.ReceivedCalls());
    }

    [Fact]
    public async Task Invalid_utf8_in_a_key_is_INVALID_ARGUMENT_and_reaches_nothing()
    {
        // ReadRequest with field 1 (key) holding the bytes FF FE, which are not UTF-8.
        var method = new Method<byte[], byte[]>(MethodType.Unary, "kvaspire.v1.KeyValue", "Read",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), [0x0A, 0x02, 0xFF, 0xFE]).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Empty(Raft.ReceivedCalls());
    }

    [Fact]
    public async Task A_good_request_gets_past_validation_to_the_replication_path()
    {
        // The stand-in group never applies anything: the read waits in the replication path, which has asked Raft.
        using var giveUp = new CancellationTokenSource();
        var read = _kv.ReadAsync(new ReadRequest { Key = "k" }, cancellationToken: giveUp.Token).ResponseAsync;
        await Wait.UntilAsync(() => Raft.ReceivedCalls().Any(), TimeSpan.FromSeconds(10), "the read to reach Raft");

        Assert.False(read.IsCompleted);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<RpcException>(() => read);
    }
}
