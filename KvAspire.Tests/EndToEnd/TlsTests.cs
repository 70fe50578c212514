using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Driver;
using KvAspire.Routing;
using KvAspire.Security;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A ring with TLS on every port (<c>Cluster.Tls</c>, development certificates) and a cluster secret: its
/// members replicate, forward, hand writes to their leaders and elect a new one over mutual TLS; clients
/// given the CA need nothing else. At each door what cannot prove a member is refused: no certificate,
/// a client's certificate of the same CA (with the right secret: a replayed secret opens nothing), another
/// CA's member certificate, a member of another position at Raft's door; a plaintext client, and a client
/// that does not trust the cluster's CA, get nowhere.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(NemesisCollection.Name)]
public sealed class TlsTests(ITestOutputHelper output) : IDisposable
{
    private const string Secret = "test-cluster-secret-tls-51c2";
    private readonly TempDirectory _directory = new();
    private readonly TempDirectory _stranger = new();

    public void Dispose()
    {
        _directory.Dispose();
        _stranger.Dispose();
    }

    [Fact]
    public async Task A_TLS_ring_serves_through_forwards_and_failovers_and_refuses_whoever_is_not_a_member()
    {
        var topology = TestTopology.Ring(_directory, positions: 2, replicas: 3, tls: true);
        await using var cluster = await LocalCluster.StartAsync(topology, new Dictionary<string, string> { [ClusterSecret.Variable] = Secret });
        var ring = TopologyLoader.Load(topology.Path) is var loaded ? new RingMath(loaded.IdBits, loaded.Positions, loaded.PlacementTags) : null!;

        // Every key through every node, without leader routing: far keys are forwarded, keys sent to followers handed to leaders.
        foreach (var node in topology.Nodes)
        {
            var options = Patient(topology.ClientOptions([node]));
            options.RouteToLeaders = false;
            using var client = new KvClient(options);
            for (var i = 0; i < 4; i++)
            {
                var key = $"{node.Name}-{i}";
                Assert.Equal(1, (await client.CreateAsync(key, Encoding.UTF8.GetBytes("v"))).Version);
                Assert.Equal("v", Encoding.UTF8.GetString((await client.ReadAsync(key)).Value.Span));
            }
        }

        // A failover: position 0's leader killed, its keys are written and read through the others.
        var leader = await cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        await cluster.KillAsync(leader);
        using (var survivors = new KvClient(Patient(topology.ClientOptions(topology.Nodes.Where(n => n != leader)))))
        {
            var keys = Enumerable.Range(0, 40).Select(i => $"after-{i}").Where(k => ring.OwnerOfKey(k) == 0).Take(5).ToList();
            Assert.NotEmpty(keys);
            foreach (var key in keys)
            {
                Assert.Equal(1, (await survivors.CreateAsync(key, Encoding.UTF8.GetBytes("w"))).Version);
                Assert.Equal("w", Encoding.UTF8.GetString((await survivors.ReadAsync(key)).Value.Span));
            }
            Assert.NotEqual(leader, await cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30)));
        }

        var target = topology.Nodes.First(n => n != leader && n.Position == 0);
        var certificates = topology.CertificatesDirectory;
        using var authority = ClusterAuthority.Load(topology.Authority!);
        using var clientCertificate = ClusterAuthority.LoadCertificate(
            Path.Combine(certificates, DevelopmentCertificates.CertificateFile(TestTopology.ClientCertificate)),
            Path.Combine(certificates, DevelopmentCertificates.KeyFile(TestTopology.ClientCertificate)));
        using var expired = ClusterAuthority.LoadCertificate(
            Path.Combine(certificates, DevelopmentCertificates.CertificateFile(TestTopology.ExpiredCertificate)),
            Path.Combine(certificates, DevelopmentCertificates.KeyFile(TestTopology.ExpiredCertificate)));
        using var otherPosition = ClusterAuthority.LoadCertificate(
            Path.Combine(certificates, DevelopmentCertificates.CertificateFile("p1r0")), Path.Combine(certificates, DevelopmentCertificates.KeyFile("p1r0")));
        DevelopmentCertificates.Write(_stranger.Path, [(target.Name, ["127.0.0.1"])], TimeSpan.FromDays(1));
        using var strangerMember = ClusterAuthority.LoadCertificate(
            _stranger.File(DevelopmentCertificates.CertificateFile(target.Name)), _stranger.File(DevelopmentCertificates.KeyFile(target.Name)));

        // gRPC's member-only doors: a Replica call, an Admin call, a request claiming to be forwarded.
        var withSecret = new Metadata { { ClusterSecret.Header, Secret } };
        foreach (var (name, presented) in new (string, X509Certificate2?)[] { ("no certificate", null), ("a client's certificate", clientCertificate) })
        {
            using var channel = Channel(target.GrpcUrl, authority, presented);
            var doors = new (string Door, Func<Task> Call)[]
            {
                ("Replica.ReadIndex", () => new Replica.ReplicaClient(channel).ReadIndexAsync(new ReadIndexRequest(), withSecret).ResponseAsync),
                ("Admin.TakeSnapshot", () => new Admin.AdminClient(channel).TakeSnapshotAsync(new TakeSnapshotRequest(), withSecret).ResponseAsync),
                ("a forwarded delete", () => new KeyValue.KeyValueClient(channel).DeleteAsync(new DeleteRequest { Key = $"{target.Name}-0" },
                    new Metadata { { "kvaspire-hops", "1" }, { ClusterSecret.Header, Secret } }).ResponseAsync),
            };
            foreach (var (door, call) in doors)
            {
                var refused = await Assert.ThrowsAsync<RpcException>(call);
                Assert.True(refused.StatusCode == StatusCode.PermissionDenied, $"{door} with {name}: {refused.Status}");
                output.WriteLine($"{door} with {name} and the secret: {refused.StatusCode} \"{refused.Status.Detail}\"");
            }
            // The same channel's client calls are served: only the member doors are closed to it.
            Assert.Equal(1, (await new KeyValue.KeyValueClient(channel).ReadAsync(new ReadRequest { Key = $"{target.Name}-0" })).Version);
        }
        // Another CA's certificate, though it names the very node, and the cluster CA's expired certificate of a member: the handshake fails.
        foreach (var (name, presented) in new[] { ($"another CA's certificate naming {target.Name}", strangerMember), ("p0r0's expired certificate", expired) })
        {
            using var refusedChannel = Channel(target.GrpcUrl, authority, presented);
            var refused = await Assert.ThrowsAsync<RpcException>(() =>
                new Replica.ReplicaClient(refusedChannel).ReadIndexAsync(new ReadIndexRequest(), withSecret).ResponseAsync);
            Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, $"{name}: {refused.Status}");
            output.WriteLine($"Replica.ReadIndex with {name}: {refused.StatusCode} \"{refused.Status.Detail}\"");
        }

        // Raft's door: only a member of the position.
        var raft = $"https://127.0.0.1:{target.RaftPort}/raft";
        foreach (var (name, presented) in new (string, X509Certificate2?)[]
                 { ("no certificate", null), ("a client's certificate", clientCertificate), ("a member of another position", otherPosition) })
        {
            using var http = Http(authority, presented);
            using var request = new HttpRequestMessage(HttpMethod.Post, raft) { Headers = { { ClusterSecret.Header, Secret } } };
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"Raft with {name}: {response.StatusCode}");
            output.WriteLine($"Raft with {name} and the secret: {(int)response.StatusCode} \"{await response.Content.ReadAsStringAsync()}\"");
        }
        foreach (var (name, presented) in new[] { ("another CA's certificate", strangerMember), ("p0r0's expired certificate", expired) })
        {
            using var http = Http(authority, presented);
            output.WriteLine($"Raft with {name}: {(await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync(raft, null))).InnerException?.Message}");
        }

        // A plaintext client, and a client trusting another CA, reach nothing.
        using (var plaintext = GrpcChannel.ForAddress($"http://{target.GrpcEndPoint}"))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() =>
                new KeyValue.KeyValueClient(plaintext).ReadAsync(new ReadRequest { Key = $"{target.Name}-0" }).ResponseAsync);
            // The TLS port's answer to a cleartext HTTP/2 preface: the connection closed (UNAVAILABLE), or bytes that are no HTTP/2 (INTERNAL).
            Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, refused.Status.ToString());
            output.WriteLine($"a plaintext client: {refused.StatusCode} \"{refused.Status.Detail}\"");
        }
        var untrusting = topology.ClientOptions([target]);
        untrusting.Authority = _stranger.File(DevelopmentCertificates.AuthorityFile);
        untrusting.RequestTimeout = TimeSpan.FromSeconds(3);
        using (var client = new KvClient(untrusting))
            output.WriteLine($"a client trusting another CA: {(await Assert.ThrowsAsync<KvUnavailableException>(() => client.ReadAsync($"{target.Name}-0"))).Message}");

        // Nothing refused changed anything: the key the forged forward tried to delete is still there.
        using var trusted = new KvClient(topology.ClientOptions([target]));
        Assert.Equal(1, (await trusted.ReadAsync($"{target.Name}-0")).Version);
    }

    /// <summary>
    /// A client that retries an UNAVAILABLE answer for its whole deadline. A ring's first forwards open its
    /// first TLS connections one after another (the client's node to the key's replica, that follower to its
    /// leader), and on a machine busy with other tests that chain was seen to outlast the node's 5 s
    /// deadline (the follower got the request 0.6 s in and connected to its leader 2.3 s in); the default
    /// client gives up after one such answer, having used its 3 s retry window.
    /// </summary>
    private static KvClientOptions Patient(KvClientOptions options)
    {
        options.RequestTimeout = TimeSpan.FromSeconds(30);
        options.RetryWindow = options.RequestTimeout;
        return options;
    }

    private static GrpcChannel Channel(string address, ClusterAuthority authority, X509Certificate2? certificate) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = authority.Handler(certificate is null ? null : () => certificate),
        });

    private static HttpClient Http(ClusterAuthority authority, X509Certificate2? certificate) =>
        new(authority.Handler(certificate is null ? null : () => certificate));
}
