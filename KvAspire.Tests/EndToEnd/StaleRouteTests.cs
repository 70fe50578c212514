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
/// A ring founded on layout epoch 2 (position 1's ring id moved up from the topology's, so it owns keys
/// that epoch 1 gives position 0; laid in every node's data directory before the first start, as a change
/// of the ring would leave it), whose groups committed their claims at epoch 2, with p0r0 then held on
/// epoch 1: requests routed with the old layout are redirected with the new one, and a key p0r0 would
/// place on its own position by epoch 1 is refused by its group's claim, not answered from the wrong
/// position. Whoever was behind (a client, the node) takes the new layout and keeps it. A backup that
/// began with the old layout finds its copies hold newer ranges, and is refused.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class StaleRouteTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Requests_routed_with_an_old_epoch_are_redirected_and_a_node_held_on_one_never_answers_for_a_key_its_group_gave_away()
    {
        var topology = TestTopology.Ring(_directory, positions: 2);
        var (p0, p1) = (topology.Nodes[0], topology.Nodes[1]);
        var first = RingLayout.Of(TopologyLoader.Load(topology.Path));
        var second = first with { Epoch = 2, PositionIds = [first.PositionIds[0], 0xBFFF_FFFF_FFFF_FFFFUL] };
        foreach (var node in topology.Nodes)
            RingLayoutFile.In(topology.DataDirectoryOf(node)).Save(second);
        await using var cluster = await LocalCluster.StartAsync(topology);
        await cluster.WaitForClaimsAsync();
        var moved = Enumerable.Range(0, 1000).Select(i => $"moved-{i}")
            .Where(k => first.Ring().OwnerOfKey(k) == 0 && second.Ring().OwnerOfKey(k) == 1).Take(4).ToList();
        using var toP0 = GrpcChannel.ForAddress(p0.GrpcUrl);
        using var toP1 = GrpcChannel.ForAddress(p1.GrpcUrl);
        await HoldOnFirstEpochAsync();

        // A caller on epoch 1 asking a node on epoch 2: refused before anything is done, with the new layout.
        var stale = await Assert.ThrowsAsync<RpcException>(() => new KeyValue.KeyValueClient(toP1).CreateAsync(
            new CreateRequest { Key = moved[0], Value = ByteString.CopyFromUtf8("never") }, new Metadata { StaleRoute.Header(1) }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);
        Assert.StartsWith("stale route: the request was routed with ring epoch 1", stale.Status.Detail);
        Assert.Equal(second.PositionIds, StaleRoute.LayoutOf(stale)!.PositionIds);

        // The client's connection, its layout learned from the node held on epoch 1, sends a moved key to
        // p1 routed with epoch 1: refused, it takes epoch 2 and sends the write again.
        using var hints = new LeaderHints(NodeChannels.Plaintext);
        hints.Adopt(RingLayout.FromMessage(await new ClusterInfo.ClusterInfoClient(toP0).GetLayoutAsync(new GetLayoutRequest())));
        Assert.Equal(1, hints.Layout!.Epoch);
        using (var connection = new KvConnection([p1.GrpcEndPoint], new KvClientOptions(), NodeChannels.Plaintext, hints))
        {
            var created = await connection.ExecuteAsync(new KvOperation(OperationKind.Create, moved[0], Encoding.UTF8.GetBytes("v0")));
            Assert.True(created.IsOk, created.Error);
            Assert.Equal(0, created.Hops);
        }
        Assert.Equal(2, hints.Layout!.Epoch);

        // The node held on epoch 1, asked for a moved key by a caller that names no epoch, places it on its
        // own position: its group's claim refuses it, the node learns epoch 2 and forwards it to p1.
        var read = await new KeyValue.KeyValueClient(toP0).ReadAsync(new ReadRequest { Key = moved[0] });
        Assert.Equal(("v0", 1), (read.Value.ToStringUtf8(), read.Hops));
        var written = await new KeyValue.KeyValueClient(toP0).CreateAsync(new CreateRequest { Key = moved[1], Value = ByteString.CopyFromUtf8("v1") });
        Assert.Equal(1, written.Hops);
        Assert.Equal(2, (await new ClusterInfo.ClusterInfoClient(toP0).GetLayoutAsync(new GetLayoutRequest())).Epoch);

        // Held on epoch 1 again, asked with epoch 2: it learns the layout from the other node before it routes.
        await HoldOnFirstEpochAsync();
        var routed = await new KeyValue.KeyValueClient(toP0).ReadAsync(new ReadRequest { Key = moved[1] }, new Metadata { StaleRoute.Header(2) });
        Assert.Equal(("v1", 1), (routed.Value.ToStringUtf8(), routed.Hops));
        Assert.Equal(2, RingLayoutFile.In(topology.DataDirectoryOf(p0)).Load()!.Epoch);

        // A request routed with an epoch no node knows: this node cannot serve it, and says so.
        var ahead = await Assert.ThrowsAsync<RpcException>(() => new KeyValue.KeyValueClient(toP0).ReadAsync(
            new ReadRequest { Key = moved[1] }, new Metadata { StaleRoute.Header(3) }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, ahead.StatusCode);
        Assert.Contains("routed with ring epoch 3; this node's layout is of epoch 2", ahead.Status.Detail);

        // The client library end to end, and the console's whereis, by epoch 2; every moved key on p1 alone.
        using var client = new KvClient(topology.ClientOptions([p0, p1]));
        foreach (var key in moved.Skip(2))
            Assert.Equal(1, (await client.CreateAsync(key, Encoding.UTF8.GetBytes("v"))).Version);
        foreach (var key in moved)
            Assert.Equal(0, (await new KeyValue.KeyValueClient(toP1).ReadAsync(new ReadRequest { Key = key })).Hops);
        var whereIs = await ClientProcess.RunAsync(["--cluster", topology.Path, "whereis", moved[0]]);
        Assert.Contains($"owner position 1: {p1.Name} {p1.GrpcEndPoint} (ring epoch 2)", whereIs.Output);

        // A backup that began with epoch 1 (the layout of the node held on it) finds copies of ranges of epoch 2: it is no backup.
        await HoldOnFirstEpochAsync();
        var backup = await ClientProcess.RunAsync(["--node", p0.GrpcEndPoint, "backup", _directory.File("backup")]);
        Assert.NotEqual(0, backup.ExitCode);
        Assert.Contains("holds a range of ring epoch 2, newer than the layout the backup began with (epoch 1)", backup.Errors);
        Assert.False(File.Exists(Path.Combine(_directory.File("backup"), "backup.json")));
        Assert.Empty(cluster.LoggedErrors());

        async Task HoldOnFirstEpochAsync()
        {
            await cluster.StopAsync(p0);
            RingLayoutFile.In(topology.DataDirectoryOf(p0)).Save(first);
            await cluster.StartAsync(p0);
            Assert.Equal(1, (await new ClusterInfo.ClusterInfoClient(toP0).GetLayoutAsync(new GetLayoutRequest())).Epoch);
        }
    }
}
