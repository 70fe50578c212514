using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Driver;
using KvAspire.Node.Storage;
using KvAspire.Routing;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Two changes of the ring asked at the same moment that share no position, on a ring of 4 positions: both
/// givers fenced for the same epoch at once (through the Replica API, as two nodes asked do when each found
/// no change under way before the other's fence). Exactly one goes on, the other is given up (its giver
/// serves its range again), every node ends on the one layout of that epoch, every key is read back, and
/// a later change is made from it.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ConcurrentRingChangeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Two_changes_asked_at_once_that_share_no_position_leave_one_layout_of_their_epoch()
    {
        var topology = TestTopology.Ring(_directory, positions: 4, replicas: 1);
        await using var cluster = await LocalCluster.StartAsync(topology);
        await cluster.WaitForClaimsAsync();
        using var client = new KvClient(topology.ClientOptions(topology.Nodes));
        var keys = Enumerable.Range(0, 200).Select(i => $"c-{i}").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (key, _) => await client.CreateAsync(key, key));
        var layout = RingLayout.Of(TopologyLoader.Load(topology.Path));
        MovePlan[] plans =
        [
            MovePlan.Boundary(layout, 0, 0xDFFF_FFFF_FFFF_FFFFUL), // position 0 gives to position 3
            MovePlan.Boundary(layout, 2, 0x9FFF_FFFF_FFFF_FFFFUL), // position 1 gives to position 2
        ];
        Assert.Equal((0, 3, 1, 2), (plans[0].Giver, plans[0].Taker, plans[1].Giver, plans[1].Taker));
        var channels = topology.Nodes.ToDictionary(n => n.Position, n => GrpcChannel.ForAddress(n.GrpcUrl));
        try
        {
            await Task.WhenAll(plans.Select(plan => new Replica.ReplicaClient(channels[plan.Giver]).ClaimRangeAsync(new ClaimRangeRequest
                { Position = plan.Giver, Claim = plan.GiverClaim.ToMessage(), Fence = plan.ToMessage() }).ResponseAsync));
            await Wait.UntilAsync(async () => (await Task.WhenAll(plans.Select(p => HeldAsync(p.Giver)))).All(held => held.Move is null),
                TimeSpan.FromSeconds(60), "both givers to end their moves");

            await Wait.UntilAsync(async () => (await LayoutsAsync()).All(l => l.Epoch >= 2), TimeSpan.FromSeconds(30), "every node on a layout of epoch 2");
            var layouts = await LayoutsAsync();
            Assert.True(layouts.All(l => l.Epoch == 2 && l.PositionIds.SequenceEqual(layouts[0].PositionIds)),
                $"the nodes hold different layouts: {string.Join("; ", layouts.Select(l => $"epoch {l.Epoch} [{string.Join(", ", l.PositionIds.Select(id => $"0x{id:x}"))}]"))}");
            var winner = plans.Single(plan => layouts[0].PositionIds.SequenceEqual(plan.After.PositionIds));
            var loser = plans.Single(plan => plan != winner);
            output.WriteLine($"went on: {winner.Describe()}; given up: {loser.Describe()}");
            Assert.Equal(winner.GiverClaim, OwnedRange.FromMessage((await HeldAsync(winner.Giver)).Claim));
            Assert.Equal(winner.TakerClaim, OwnedRange.FromMessage((await HeldAsync(winner.Taker)).Claim));
            Assert.Equal(loser.GiverRollback, OwnedRange.FromMessage((await HeldAsync(loser.Giver)).Claim));
            foreach (var key in keys)
                Assert.Equal(key, (await client.ReadAsync(key)).Text);

            var later = await ClientProcess.RunAsync(["--cluster", topology.Path, "ring", "move", "1", "0xafffffffffffffff"]);
            Assert.True(later.ExitCode == 0, $"a later change: exit {later.ExitCode}: {later.Output}{later.Errors}");
            Assert.Contains("epoch 3", later.Output);
            Assert.Equal(keys.Count, (await client.ListAllAsync("c-")).Items.Count);
        }
        finally
        {
            foreach (var channel in channels.Values)
                channel.Dispose();
        }

        Task<ClaimRangeReply> HeldAsync(int position) =>
            new Replica.ReplicaClient(channels[position]).ClaimRangeAsync(new ClaimRangeRequest { Position = position }).ResponseAsync;

        async Task<RingLayout[]> LayoutsAsync() => await Task.WhenAll(channels.Values.Select(async channel =>
            RingLayout.FromMessage(await new ClusterInfo.ClusterInfoClient(channel).GetLayoutAsync(new GetLayoutRequest()))));
    }
}
