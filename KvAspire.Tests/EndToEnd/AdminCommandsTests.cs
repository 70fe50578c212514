using System.Collections.Concurrent;
using Grpc.Net.Client;
using KvAspire.Driver;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The Admin calls behind the dashboard's node commands, against the shared 1×3 group of real processes
/// (<see cref="SharedGroupCollection"/>): a leader
/// that steps down is replaced by another, a follower asked to has nothing to do, a snapshot taken on
/// demand is written (or there is nothing new to write); and the console's backup, restored into a new cluster.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class AdminCommandsTests(KvClientTests.Group group)
{
    private static Admin.AdminClient AdminOf(TestNode node, out GrpcChannel channel)
    {
        channel = GrpcChannel.ForAddress($"http://{node.GrpcEndPoint}");
        return new Admin.AdminClient(channel);
    }

    [Fact]
    public async Task A_leader_asked_to_step_down_gives_way_to_a_new_election_and_a_follower_asked_has_nothing_to_do()
    {
        var replicas = group.Cluster.Topology.ReplicasOf(0).ToList();
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var termBefore = (await GroupProbe.StatusAsync(leader))!.Term;
        var follower = replicas.First(n => n != leader);

        var fromFollower = await AdminOf(follower, out var followerChannel).StepDownAsync(new StepDownRequest());
        var fromLeader = await AdminOf(leader, out var leaderChannel).StepDownAsync(new StepDownRequest());
        followerChannel.Dispose();
        leaderChannel.Dispose();

        Assert.False(fromFollower.WasLeader);
        Assert.True(fromLeader.WasLeader);
        // A leader of a later term (any replica, the old leader included, may win the election).
        await Wait.UntilAsync(async () => (await Task.WhenAll(replicas.Select(GroupProbe.StatusAsync))).Any(s => s is { Role: "leader" } && s.Term > termBefore),
            TimeSpan.FromSeconds(30), $"a leader of a term after {termBefore}");
        using var client = group.Client();
        await client.CreateAsync("after-step-down", "v");
        Assert.Equal(1, (await client.ReadAsync("after-step-down")).Version);
    }

    [Fact]
    public async Task A_snapshot_taken_on_demand_is_written_and_a_second_has_nothing_new()
    {
        using var client = group.Client();
        await client.CreateAsync("snapshot-me", "v");
        var node = group.Cluster.Topology.ReplicasOf(0).First();
        var admin = AdminOf(node, out var channel);
        using (channel)
        {
            // The write is committed; this replica may apply it a moment later, and has nothing to snapshot until then.
            TakeSnapshotReply taken = new();
            await Wait.UntilAsync(async () => (taken = await admin.TakeSnapshotAsync(new TakeSnapshotRequest())).Taken, TimeSpan.FromSeconds(30),
                $"{node.Name} to take a snapshot");
            var again = await admin.TakeSnapshotAsync(new TakeSnapshotRequest());

            Assert.True(File.Exists(Path.Combine(group.Cluster.Topology.DataDirectoryOf(node), $"snap.{taken.Number}")));
            Assert.True(taken.LastIndex > 0);
            Assert.False(again.Taken);
        }
    }

    [Fact]
    public async Task A_backup_taken_under_writes_restores_into_a_new_cluster_holding_every_write_acknowledged_before_it_began()
    {
        using var client = group.Client();
        using var stop = new CancellationTokenSource();
        var acknowledged = new ConcurrentDictionary<string, (string Value, long Version)>();
        var writing = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var (key, value) = ($"backup/{i % 40}", $"{i}");
                var written = i < 40 ? await client.CreateAsync(key, value) : await client.UpdateAsync(key, value);
                acknowledged[key] = (value, written.Version);
            }
        });
        await Wait.UntilAsync(() => acknowledged.Count == 40 || writing.IsFaulted, TimeSpan.FromSeconds(30), "every key written once");
        var before = new Dictionary<string, (string Value, long Version)>(acknowledged);

        using var backups = new TempDirectory();
        var backup = backups.File("ring");
        var run = await ClientProcess.RunAsync(["--node", group.Cluster.Topology.Nodes[1].GrpcEndPoint, "backup", backup]);
        await stop.CancelAsync();
        await writing;
        Assert.True(run.ExitCode == 0, $"backup exited {run.ExitCode}: {run.Output}{run.Errors}");
        Assert.Contains($"backup of 1 position(s)", run.Output);
        Assert.Contains("position 0: ", run.Errors);
        Assert.True(File.Exists(Path.Combine(backup, "backup.json")));

        // A new cluster of another size (one replica) from it: every write acknowledged before the backup
        // began is there, or a later one of the same key.
        using var restoredDirectory = new TempDirectory();
        var restored = TestTopology.Ring(restoredDirectory, 1, replicas: 1);
        await using var node = await NodeProcess.StartAsync(restored, arguments: ["--restore", backup]);
        using var restoredClient = new KvClient(new KvClientOptions { Nodes = [restored.GrpcEndPoint] });
        foreach (var (key, (value, version)) in before)
        {
            var read = await restoredClient.ReadAsync(key);
            Assert.True(read.Version >= version, $"{key}: version {read.Version} restored, {version} acknowledged before the backup");
            if (read.Version == version)
                Assert.Equal(value, read.Text);
        }
        Assert.True(node.LoggedEvent(34), $"no restore event (34) in:{Environment.NewLine}{node.Output}");
        // The restored cluster takes writes of its own, and a restart does not restore again.
        await restoredClient.UpdateAsync("backup/0", "after");
        Assert.Equal(0, await node.StopAsync());
        await using var again = await NodeProcess.StartAsync(restored, arguments: ["--restore", backup]);
        Assert.Equal("after", (await restoredClient.ReadAsync("backup/0")).Text);
    }
}
