using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Driver;
using KvAspire.Driver.Transport;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A ring whose layout has moved on (epoch 2: position 1's ring id moved up, so it owns keys position 0
/// owned at epoch 1) with one node held on epoch 1: requests routed with the old layout are redirected with
/// the new one, never answered from the wrong position, and whoever was behind (a client, the node) takes
/// the new layout and keeps it. The layouts are laid in the nodes' data directories before they start, as
/// a change of the ring would have left them; position 1's range only grows from epoch 1 to 2, so a node
/// held on epoch 1 never serves a key it does not own at 2.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class StaleRouteTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_request_routed_with_an_old_epoch_is_redirected_with_the_new_layout_and_answered_by_the_key_s_owner()
    {
        var topology = TestTopology.Ring(_directory, positions: 2);
        var (p0, p1) = (topology.Nodes[0], topology.Nodes[1]);
        var first = RingLayout.Of(TopologyLoader.Load(topology.Path));
        var second = first with { Epoch = 2, PositionIds = [first.PositionIds[0], 0xBFFF_FFFF_FFFF_FFFFUL] };
        RingLayoutFile.In(topology.DataDirectoryOf(p0)).Save(second);
        RingLayoutFile.In(topology.DataDirectoryOf(p1)).Save(first);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var moved = Enumerable.Range(0, 1000).Select(i => $"moved-{i}")
            .Where(k => first.Ring().OwnerOfKey(k) == 0 && second.Ring().OwnerOfKey(k) == 1).Take(3).ToList();
        using var toP0 = GrpcChannel.ForAddress(p0.GrpcUrl);
        using var toP1 = GrpcChannel.ForAddress(p1.GrpcUrl);
        Assert.Equal(1, (await new ClusterInfo.ClusterInfoClient(toP1).GetLayoutAsync(new GetLayoutRequest())).Epoch);

        // A caller on epoch 1 asking a node on epoch 2: refused before anything is done, with the new layout.
        var stale = await Assert.ThrowsAsync<RpcException>(() => new KeyValue.KeyValueClient(toP0).CreateAsync(
            new CreateRequest { Key = moved[0], Value = ByteString.CopyFromUtf8("never") }, new Metadata { StaleRoute.Header(1) }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);
        Assert.StartsWith("stale route: the request was routed with ring epoch 1", stale.Status.Detail);
        Assert.Equal(second.PositionIds, StaleRoute.LayoutOf(stale)!.PositionIds);

        // The client's connection, its layout learned from the node held on epoch 1, writes a moved key
        // through p0: refused, it takes epoch 2 and sends the write again; p0 forwards it, routed with
        // epoch 2, to p1, which learns epoch 2 from the other node before it serves the write.
        using var hints = new LeaderHints(NodeChannels.Plaintext);
        hints.Adopt(RingLayout.FromMessage(await new ClusterInfo.ClusterInfoClient(toP1).GetLayoutAsync(new GetLayoutRequest())));
        using (var connection = new KvConnection([p0.GrpcEndPoint], new KvClientOptions(), NodeChannels.Plaintext, hints))
        {
            var created = await connection.ExecuteAsync(new KvOperation(OperationKind.Create, moved[0], Encoding.UTF8.GetBytes("v0")));
            Assert.True(created.IsOk, created.Error);
            Assert.Equal(1, created.Hops);
        }
        Assert.Equal(2, hints.Layout!.Epoch);
        Assert.Equal(2, (await new ClusterInfo.ClusterInfoClient(toP1).GetLayoutAsync(new GetLayoutRequest())).Epoch);
        Assert.Equal(2, RingLayoutFile.In(topology.DataDirectoryOf(p1)).Load()!.Epoch);
        var read = await new KeyValue.KeyValueClient(toP1).ReadAsync(new ReadRequest { Key = moved[0] });
        Assert.Equal(("v0", 0), (read.Value.ToStringUtf8(), read.Hops));

        // A request routed with an epoch no node knows: this node cannot serve it, and says so.
        var ahead = await Assert.ThrowsAsync<RpcException>(() => new KeyValue.KeyValueClient(toP0).ReadAsync(
            new ReadRequest { Key = moved[1] }, new Metadata { StaleRoute.Header(3) }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, ahead.StatusCode);
        Assert.Contains("routed with ring epoch 3; this node's layout is of epoch 2", ahead.Status.Detail);

        // The client library end to end: every moved key written and read where epoch 2 places it.
        using var client = new KvClient(topology.ClientOptions([p1, p0]));
        foreach (var key in moved.Skip(1))
        {
            Assert.Equal(1, (await client.CreateAsync(key, Encoding.UTF8.GetBytes("v"))).Version);
            var direct = await new KeyValue.KeyValueClient(toP1).ReadAsync(new ReadRequest { Key = key });
            Assert.Equal(("v", 0), (direct.Value.ToStringUtf8(), direct.Hops));
        }
        // The console's whereis places by the cluster's layout, not the topology file's.
        var whereIs = await ClientProcess.RunAsync(["--cluster", topology.Path, "whereis", moved[0]]);
        Assert.Contains($"owner position 1: {p1.Name} {p1.GrpcEndPoint} (ring epoch 2)", whereIs.Output);
        Assert.Empty(cluster.LoggedErrors());
    }
}
