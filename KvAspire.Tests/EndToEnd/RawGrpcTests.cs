using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A real node as generic gRPC tools and clients generated from the proto see it: server reflection lists
/// and describes the API (what grpcurl uses), the standard health service answers, and a retried request
/// id returns its first result. (Bad input is tested in process: <c>Unit/RequestValidationTests</c>.)
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class RawGrpcTests : IAsyncLifetime
{
    private SingleNode _cluster = null!;
    private GrpcChannel _channel = null!;
    private KeyValue.KeyValueClient _kv = null!;

    public async Task InitializeAsync()
    {
        _cluster = await SingleNode.StartAsync();
        _channel = GrpcChannel.ForAddress($"http://{_cluster.Topology.GrpcEndPoint}");
        _kv = new KeyValue.KeyValueClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _cluster.DisposeAsync();
    }

    private static RequestId Id(ulong sequence) => new() { ClientId = "grpc-test", Sequence = sequence };

    [Fact]
    public async Task Reflection_lists_the_api_and_the_health_service_and_describes_the_api()
    {
        using var call = new ServerReflection.ServerReflectionClient(_channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "kvaspire.v1.KeyValue" });
        await call.RequestStream.CompleteAsync();
        var answers = await call.ResponseStream.ReadAllAsync().ToListAsync();

        var services = answers[0].ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("kvaspire.v1.KeyValue", services);
        Assert.Contains("kvaspire.v1.Admin", services);
        Assert.Contains("grpc.health.v1.Health", services);
        var files = answers[1].FileDescriptorResponse.FileDescriptorProto.Select(b => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(b));
        var keyValue = files.SelectMany(f => f.Service).Single(s => s.Name == "KeyValue");
        Assert.Equal(["Create", "Read", "Update", "Delete", "Txn", "List", "Watch"], keyValue.Method.Select(m => m.Name));
    }

    [Fact]
    public async Task The_standard_health_service_says_serving()
    {
        var health = await new Health.HealthClient(_channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
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
