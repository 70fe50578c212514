using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// With two of its three replicas down a position has no quorum: it refuses reads and writes with
/// UNAVAILABLE rather than answer alone, and once a second replica is back the group goes on from
/// exactly what it had committed.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(NemesisCollection.Name)]
public sealed class QuorumLossTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_position_with_two_replicas_down_refuses_requests_and_does_not_diverge()
    {
        var topology = TestTopology.Ring(_directory, positions: 1, replicas: 3);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var leader = await cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var follower = topology.Nodes.First(n => n != leader);
        var survivor = topology.Nodes.Single(n => n != leader && n != follower);
        using var toSurvivor = new KvConnection([survivor.GrpcEndPoint], TimeSpan.FromSeconds(15));
        Assert.True((await toSurvivor.ExecuteAsync(new ConsoleCommand(OperationKind.Create, "q", "before"))).IsOk);

        await cluster.KillAsync(leader);
        await cluster.StopAsync(follower);
        var update = await toSurvivor.ExecuteAsync(new ConsoleCommand(OperationKind.Update, "q", "alone", 1));
        var read = await toSurvivor.ExecuteAsync(new ConsoleCommand(OperationKind.Read, "q"));
        Assert.Equal(StatusCode.Unavailable, update.Status);
        Assert.Equal(StatusCode.Unavailable, read.Status);
        Assert.Contains("position 0", read.Error);

        await cluster.StartAsync(follower);
        var afterQuorum = await toSurvivor.ExecuteAsync(new ConsoleCommand(OperationKind.Read, "q"));
        Assert.Equal(("before", 1L), (afterQuorum.Text, afterQuorum.Version));
        Assert.Equal(2, (await toSurvivor.ExecuteAsync(new ConsoleCommand(OperationKind.Update, "q", "after", 1))).Version);

        await cluster.StartAsync(leader);
        await cluster.WaitCaughtUpAsync(leader, TimeSpan.FromSeconds(30));
        foreach (var node in topology.Nodes)
        {
            using var connection = new KvConnection([node.GrpcEndPoint], TimeSpan.FromSeconds(15));
            var seen = await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Read, "q"));
            Assert.Equal(("after", 2L), (seen.Text, seen.Version));
        }
    }

    [Fact]
    public async Task A_leader_that_loses_its_quorum_refuses_read_indexes_with_unavailable_until_it_steps_down()
    {
        var topology = TestTopology.Ring(_directory, positions: 1, replicas: 3);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var leader = await cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        using var channel = GrpcChannel.ForAddress($"http://{leader.GrpcEndPoint}");
        var replica = new Replica.ReplicaClient(channel);

        // Asked over and over while its followers freeze: a call whose heartbeat round finds no quorum, and
        // every call once it has stepped down, must say UNAVAILABLE, which is what a follower retries on.
        var asking = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    await replica.ReadIndexAsync(new ReadIndexRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                }
                catch (RpcException e)
                {
                    Assert.True(e.StatusCode == StatusCode.Unavailable, e.Status.ToString());
                    if (e.Status.Detail.Contains("is not the leader"))
                        return;
                }
            }
        });
        foreach (var follower in topology.Nodes.Where(n => n != leader))
            await cluster.PauseAsync(follower);
        await asking.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
