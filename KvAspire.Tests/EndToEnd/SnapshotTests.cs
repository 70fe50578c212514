using Grpc.Net.Client;
using KvAspire.Driver;
using KvAspire.Driver.Transport;
using KvAspire.Node.Storage;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>A real node taking a snapshot every second: retention, crashes, damaged files; and a follower brought back by its leader's snapshot.</summary>
[Trait("Category", "EndToEnd")]
public sealed class SnapshotTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly TestTopology _topology;
    private readonly ITestOutputHelper _output;

    public SnapshotTests(ITestOutputHelper output)
    {
        _output = output;
        _topology = TestTopology.SingleNode(_directory, snapshotIntervalSeconds: 1);
    }

    public void Dispose() => _directory.Dispose();

    private DataFileSet Files() => DataFiles.List(_topology.DataDirectory);

    private KvConnection Connect() => new([_topology.GrpcEndPoint], TimeSpan.FromSeconds(5));

    /// <summary>Writes until snapshot <paramref name="number"/> exists, then stops the writers with SIGTERM.</summary>
    private async Task WriteThroughSnapshotAsync(NodeProcess node, AcknowledgedWrites writes, string prefix, long number)
    {
        using var connection = Connect();
        var writers = writes.Start(connection, prefix, 16);
        await Wait.UntilAsync(() => Files().Snapshots.Any(n => n >= number), TimeSpan.FromSeconds(60), $"snap.{number}");
        Assert.Equal(0, await node.StopAsync());
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_directory_keeps_the_last_3_logs_and_snapshots_ending_at_the_same_number()
    {
        var writes = new AcknowledgedWrites();
        await using (var node = await NodeProcess.StartAsync(_topology))
            await WriteThroughSnapshotAsync(node, writes, "a", 5);
        await using (var node = await NodeProcess.StartAsync(_topology))
            await WriteThroughSnapshotAsync(node, writes, "b", Files().HighestNumber + 3);

        var files = Files();
        var last = files.Snapshots[^1];
        Assert.Equal([last - 2, last - 1, last], files.Snapshots);
        Assert.Equal([last - 2, last - 1, last], files.Logs);
        Assert.Empty(files.Temporary);

        await using var restarted = await NodeProcess.StartAsync(_topology);
        using var connection = Connect();
        await writes.AssertAllPresentAsync(connection);
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_while_a_snapshot_is_being_written()
    {
        var writes = new AcknowledgedWrites(valueBytes: 16 * 1024);
        for (var round = 0; round < 3; round++)
        {
            await using var node = await NodeProcess.StartAsync(_topology);
            using var connection = Connect();
            await writes.AssertAllPresentAsync(connection);

            var writers = writes.Start(connection, $"r{round}", 32);
            await writes.WaitForCountAsync(writes.Count + 3000, TimeSpan.FromSeconds(60));

            // The next snapshot to start is the moment to crash: its file is being written.
            using var watcher = new FileSystemWatcher(_topology.DataDirectory, "snap.*" + DataFiles.TemporarySuffix);
            var snapshotStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            watcher.Created += (_, _) => snapshotStarted.TrySetResult();
            watcher.EnableRaisingEvents = true;
            await snapshotStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await node.KillAsync();
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
            _output.WriteLine($"round {round}: killed with {writes.Count} writes acknowledged; unfinished snapshot left: {string.Join(", ", Files().Temporary)}");
        }

        await using var restarted = await NodeProcess.StartAsync(_topology);
        using var final = Connect();
        await writes.AssertAllPresentAsync(final);
    }

    [Fact]
    public async Task A_garbage_byte_after_the_newest_log_and_a_truncated_newest_snapshot_do_not_stop_the_node()
    {
        var writes = new AcknowledgedWrites();
        await using (var node = await NodeProcess.StartAsync(_topology))
            await WriteThroughSnapshotAsync(node, writes, "a", 3);

        var files = Files();
        File.AppendAllText(Path.Combine(_topology.DataDirectory, DataFiles.LogName(files.Logs[^1])), "\u0007");
        var newest = Path.Combine(_topology.DataDirectory, DataFiles.SnapshotName(files.Snapshots[^1]));
        using (var snapshot = File.OpenWrite(newest))
            snapshot.SetLength(snapshot.Length / 2);

        await using var restarted = await NodeProcess.StartAsync(_topology);
        using var connection = Connect();
        await writes.AssertAllPresentAsync(connection);
        Assert.True(restarted.LoggedEvent(8), $"no snapshot-fallback event (8) in:{Environment.NewLine}{restarted.Output}");
        Assert.Contains("cannot be used (cut short)", restarted.Output); // the reason it gives
        Assert.True(restarted.LoggedEvent(3), $"no torn-tail event (3) in:{Environment.NewLine}{restarted.Output}");
    }

    /// <summary>
    /// A follower that missed more than its leader's log still holds is sent the leader's snapshot, 33 MB here:
    /// more than half an election allows to arrive and be installed, the deadline of every other Raft message.
    /// With DotNext's one timeout for all, the send was cut off while the follower installed it, and the
    /// follower, refusing each resend of what it now held, stood for election every second until its leader
    /// took a newer snapshot (never, here: no snapshot is due within the test). A snapshot's deadline now grows
    /// with its size (Peers/RaftMessageDeadlines).
    /// </summary>
    [Fact]
    public async Task A_follower_behind_by_a_33_MB_snapshot_catches_up_from_one_send()
    {
        using var directory = new TempDirectory();
        var topology = TestTopology.Ring(directory, positions: 1, replicas: 3, snapshotIntervalSeconds: 3600);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var leader = await cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var follower = topology.ReplicasOf(0).First(n => n != leader);
        using var client = new KvClient(topology.ClientOptions(topology.Nodes));
        await client.CreateAsync("before", "v");
        await cluster.WaitCaughtUpAsync(follower, TimeSpan.FromSeconds(30));
        await cluster.KillAsync(follower);

        // Raft's log is cut at the snapshot before the newest (a new one is announced once it is written), hence two.
        await KiBValues.WriteAsync(client, Enumerable.Range(0, 30_000).Select(i => $"s-{i}"));
        await TakeSnapshotAsync(leader);
        await KiBValues.WriteAsync(client, Enumerable.Range(30_000, 2_000).Select(i => $"s-{i}"));
        await TakeSnapshotAsync(leader);
        await cluster.StartAsync(follower);
        await client.CreateAsync("after", "v");

        await cluster.WaitCaughtUpAsync(follower, TimeSpan.FromSeconds(15));
        Assert.Contains("Installed the leader's snapshot", cluster.OutputOf(follower));
    }

    private static async Task TakeSnapshotAsync(TestNode node)
    {
        using var channel = GrpcChannel.ForAddress($"http://{node.GrpcEndPoint}");
        var admin = new Admin.AdminClient(channel);
        await Wait.UntilAsync(async () => (await admin.TakeSnapshotAsync(new TakeSnapshotRequest())).Taken, TimeSpan.FromSeconds(30),
            $"{node.Name} to take a snapshot");
    }
}
