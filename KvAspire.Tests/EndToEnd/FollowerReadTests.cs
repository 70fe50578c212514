using KvAspire.Driver;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Reads sent to a follower, as a client that does not know the topology sends them, on the 1×3 group of
/// <see cref="SharedGroupCollection"/>: the follower serves them itself from a read index its leader
/// confirmed, so each must show every write acknowledged before it, wherever that write was acknowledged.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class FollowerReadTests(KvClientTests.Group group)
{
    [Fact]
    public async Task A_read_at_a_follower_shows_the_write_the_leader_acknowledged_just_before()
    {
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var follower = group.Cluster.Topology.Nodes.First(n => n != leader);
        using var writer = new KvClient(new KvClientOptions { Nodes = [leader.GrpcEndPoint] });
        using var reader = new KvClient(new KvClientOptions { Nodes = [follower.GrpcEndPoint], RouteToLeaders = false });

        var created = await writer.CreateAsync("follower-read", "0");
        var last = created.Version;
        for (var i = 1; i <= 200; i++)
        {
            last = (await writer.UpdateAsync("follower-read", $"{i}")).Version;
            var read = await reader.ReadAsync("follower-read");
            Assert.Equal(($"{i}", last, $"http://{follower.GrpcEndPoint}"), (read.Text, read.Version, read.Node));
        }
    }

    [Fact]
    public async Task Reads_at_every_replica_at_once_each_show_the_writes_acknowledged_before_they_began()
    {
        using var writer = group.Client();
        var readers = group.Cluster.Topology.Nodes.Select(n => new KvClient(new KvClientOptions { Nodes = [n.GrpcEndPoint], RouteToLeaders = false })).ToArray();
        try
        {
            await writer.CreateAsync("many-reads", "0");
            var acknowledged = 1L;
            var writes = Task.Run(async () =>
            {
                for (var i = 1; i <= 300; i++)
                    Volatile.Write(ref acknowledged, (await writer.UpdateAsync("many-reads", $"{i}")).Version);
            });
            // Many reads in flight on each replica share read-index calls; none may see less than was
            // acknowledged when it started.
            var reads = readers.SelectMany(reader => Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!writes.IsCompleted)
                {
                    var floor = Volatile.Read(ref acknowledged);
                    var read = await reader.ReadAsync("many-reads");
                    Assert.True(read.Version >= floor, $"{read.Node} read version {read.Version} after {floor} was acknowledged");
                }
            })));
            await Task.WhenAll(reads.Append(writes)).WaitAsync(TimeSpan.FromSeconds(120));
        }
        finally
        {
            foreach (var reader in readers)
                reader.Dispose();
        }
    }
}
