using KvAspire.Driver.Transport;
using KvAspire.Node.Storage;
using KvAspire.Tests.Support;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>A real node taking a snapshot every second: retention, crashes, damaged files.</summary>
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
}
