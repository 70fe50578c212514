using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A cluster with a secret (KVASPIRE_CLUSTER_SECRET): its members replicate, forward and hand requests
/// to their leaders as usual, clients need nothing, and node-to-node requests without the secret (a Raft
/// message, a request claiming to be forwarded, a write handed over or a read index asked for) are refused and change nothing.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(NemesisCollection.Name)]
public sealed class ClusterSecretTests : IDisposable
{
    private const string Secret = "test-cluster-secret-3f9a";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Members_with_the_secret_work_together_and_internal_requests_without_it_are_refused()
    {
        var topology = TestTopology.Ring(_directory, positions: 2, replicas: 3);
        await using var cluster = await LocalCluster.StartAsync(topology, new Dictionary<string, string> { [ClusterSecret.Variable] = Secret });

        // Clients send every key to every node: far keys are forwarded, keys sent to followers handed to leaders.
        foreach (var node in topology.Nodes)
        {
            using var channel = GrpcChannel.ForAddress($"http://{node.GrpcEndPoint}");
            var kv = new KeyValue.KeyValueClient(channel);
            for (var i = 0; i < 6; i++)
            {
                var key = $"{node.Name}-{i}";
                Assert.Equal(1, (await kv.CreateAsync(new CreateRequest { Key = key, Value = ByteString.CopyFromUtf8("v") })).Version);
                Assert.Equal("v", (await kv.ReadAsync(new ReadRequest { Key = key })).Value.ToStringUtf8());
            }
        }

        using var http = new HttpClient();
        foreach (var node in topology.Nodes)
        {
            foreach (var presented in new[] { null, "wrong" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{node.GrpcEndPoint.Split(':')[0]}:{node.RaftPort}/raft");
                if (presented is not null)
                    request.Headers.Add(ClusterSecret.Header, presented);
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }

        using var first = GrpcChannel.ForAddress($"http://{topology.Nodes[0].GrpcEndPoint}");
        var target = new KeyValue.KeyValueClient(first);
        var deleteKey = new DeleteRequest { Key = $"{topology.Nodes[0].Name}-0" };
        var forged = new (string Name, Metadata Headers)[]
        {
            ("forwarded", new Metadata { { "kvaspire-hops", "1" } }),
            ("forwarded, wrong secret", new Metadata { { "kvaspire-hops", "1" }, { ClusterSecret.Header, "wrong" } }),
        };
        foreach (var (name, headers) in forged)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => target.DeleteAsync(deleteKey, headers).ResponseAsync);
            Assert.True(error.StatusCode == StatusCode.PermissionDenied, $"{name}: {error.Status}");
        }

        var replica = new Replica.ReplicaClient(first);
        var handOff = new HandOffWritesRequest { Writes = { new HandedWrite { Delete = deleteKey } } };
        foreach (var headers in new[] { new Metadata(), new Metadata { { ClusterSecret.Header, "wrong" } } })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => replica.HandOffWritesAsync(handOff, headers).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
            error = await Assert.ThrowsAsync<RpcException>(() => replica.ReadIndexAsync(new ReadIndexRequest(), headers).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        }
        Assert.Equal(1, (await target.ReadAsync(new ReadRequest { Key = $"{topology.Nodes[0].Name}-0" })).Version);
    }
}
