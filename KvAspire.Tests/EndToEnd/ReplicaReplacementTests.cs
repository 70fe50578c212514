using Grpc.Core;
using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A replica whose disk is lost must not come back as itself (it forgot its votes and its log): it waits
/// as a new member, counted by no one, until <c>replace-replica</c> has the leader remove the member it
/// was and add it anew, caught up by snapshot.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(NemesisCollection.Name)]
public sealed class ReplicaReplacementTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_replica_started_on_an_empty_data_directory_counts_for_nothing_until_replaced_then_holds_everything()
    {
        var topology = TestTopology.Ring(_directory, positions: 1, replicas: 3, snapshotIntervalSeconds: 1);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var leader = await cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var (lost, other) = (topology.Nodes.First(n => n != leader), topology.Nodes.Last(n => n != leader));
        using var toLeader = new KvConnection([leader.GrpcEndPoint], TimeSpan.FromSeconds(5));
        Assert.True((await toLeader.ExecuteAsync(new ConsoleCommand(OperationKind.Create, "kept", "before"))).IsOk);
        var before = await GroupProbe.StatusAsync(lost);

        Assert.Equal(0, await cluster.StopAsync(lost));
        Directory.Delete(topology.DataDirectoryOf(lost), recursive: true);
        await cluster.StartAsync(lost);
        var waiting = await GroupProbe.StatusAsync(lost);
        Assert.Equal("standby", waiting?.Role);
        Assert.NotEqual(before!.Member, waiting!.Member);
        Assert.Contains(before.Member, (await GroupProbe.StatusAsync(leader))!.Members);

        // With the other follower down, the leader has only the wiped replica: that is no majority.
        Assert.Equal(0, await cluster.StopAsync(other));
        var alone = await toLeader.ExecuteAsync(new ConsoleCommand(OperationKind.Update, "kept", "alone"));
        Assert.True(alone.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded, $"{alone.Status} {alone.Error}");
        Assert.Equal("standby", (await GroupProbe.StatusAsync(lost))?.Role);

        await cluster.StartAsync(other);
        var replaced = await ClientProcess.RunAsync(["--cluster", topology.Path, "replace-replica", lost.Name]);
        Assert.True(replaced.ExitCode == 0, replaced.Output + replaced.Errors);
        Assert.Contains($"removed {before.Member}, added {waiting.Member}", replaced.Output);
        await cluster.WaitCaughtUpAsync(lost, TimeSpan.FromSeconds(30));
        var members = (await GroupProbe.StatusAsync(leader))!.Members;
        Assert.Equal(3, members.Count);
        Assert.Contains(waiting.Member, members);
        Assert.DoesNotContain(before.Member, members);

        // Whole again: it holds what was written before, and it counts (the other follower down again).
        // The unacknowledged update may have committed once the other follower was back: read, then write.
        var current = await toLeader.ExecuteAsync(new ConsoleCommand(OperationKind.Read, "kept"));
        Assert.True(current.IsOk, current.Error);
        await cluster.StopAsync(other);
        var after = await toLeader.ExecuteAsync(new ConsoleCommand(OperationKind.Update, "kept", "after", current.Version));
        Assert.Equal((StatusCode.OK, current.Version + 1), (after.Status, after.Version));
        using var toReplaced = new KvConnection([lost.GrpcEndPoint], TimeSpan.FromSeconds(5));
        var read = await toReplaced.ExecuteAsync(new ConsoleCommand(OperationKind.Read, "kept"));
        Assert.Equal(("after", current.Version + 1), (read.Text, read.Version));

        // A second run finds nothing to do; a name not in the topology changes nothing.
        await cluster.StartAsync(other);
        var again = await ClientProcess.RunAsync(["--cluster", topology.Path, "replace-replica", lost.Name]);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already a member", again.Output);
        var unknown = await ClientProcess.RunAsync(["--cluster", topology.Path, "replace-replica", "nobody"]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no node named 'nobody'", unknown.Errors);
    }
}
