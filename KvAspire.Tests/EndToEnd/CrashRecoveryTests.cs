using KvAspire.Driver.Transport;
using KvAspire.Node.Storage;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Stop a node under load (kill -9, or SIGTERM) and restart it: every acknowledged write is back, also when
/// the crash left junk after the last record of its newest log; junk with a good record after it is not a
/// torn tail, and the node refuses to start.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Every_acknowledged_write_survives_a_stop_during_writes(bool kill9)
    {
        // Snapshots every 2 s, so the stops land at random moments relative to them too.
        var topology = TestTopology.SingleNode(_directory, snapshotIntervalSeconds: 2);
        var writes = new AcknowledgedWrites();

        for (var round = 0; round < 3; round++)
        {
            await using var node = await NodeProcess.StartAsync(topology);
            using var connection = new KvConnection([topology.GrpcEndPoint], TimeSpan.FromSeconds(5));
            await writes.AssertAllPresentAsync(connection);

            var writers = writes.Start(connection, $"r{round}", 32);
            await writes.WaitForCountAsync(writes.Count + 1500, TimeSpan.FromSeconds(60));
            if (kill9)
                await node.KillAsync();
            else
                Assert.Equal(0, await node.StopAsync());
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        }

        await using var restarted = await NodeProcess.StartAsync(topology);
        using var final = new KvConnection([topology.GrpcEndPoint], TimeSpan.FromSeconds(5));
        await writes.AssertAllPresentAsync(final);
        Assert.True(writes.Count >= 4500, $"only {writes.Count} writes were acknowledged");
    }

    public static TheoryData<string, byte[]> Junk()
    {
        var random = new Random(99);
        byte[] Random(int length) { var bytes = new byte[length]; random.NextBytes(bytes); return bytes; }
        var bogusHeader = new byte[LogRecordFormat.RecordHeaderSize];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bogusHeader, 64);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bogusHeader.AsSpan(4), ~64);
        return new()
        {
            { "1 random byte", Random(1) },
            { "12 random bytes", Random(12) },
            { "64 random bytes", Random(64) },
            { "a record header whose payload never came", bogusHeader },
        };
    }

    private static string NewestLog(TestTopology topology) =>
        Path.Combine(topology.DataDirectory, DataFiles.LogName(DataFiles.List(topology.DataDirectory).Logs.Max()));

    private static async Task<AcknowledgedWrites> WriteThenKillAsync(TestTopology topology)
    {
        var writes = new AcknowledgedWrites();
        await using var node = await NodeProcess.StartAsync(topology);
        using var connection = new KvConnection([topology.GrpcEndPoint], TimeSpan.FromSeconds(5));
        var writers = writes.Start(connection, "w", 8);
        await writes.WaitForCountAsync(300, TimeSpan.FromSeconds(60));
        await node.KillAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        return writes;
    }

    [Theory]
    [MemberData(nameof(Junk))]
    public async Task A_node_killed_with_junk_after_its_last_record_cuts_the_tail_and_serves_every_acknowledged_write(string junk, byte[] bytes)
    {
        var topology = TestTopology.SingleNode(_directory);
        var writes = await WriteThenKillAsync(topology);
        var log = NewestLog(topology);
        var intactLength = new FileInfo(log).Length;
        await File.AppendAllBytesAsync(log, bytes);

        await using var restarted = await NodeProcess.StartAsync(topology);
        using var connection = new KvConnection([topology.GrpcEndPoint], TimeSpan.FromSeconds(5));
        await writes.AssertAllPresentAsync(connection);
        Assert.True(restarted.LoggedEvent(3), $"no torn-tail event (3) in:{Environment.NewLine}{restarted.Output}");
        Assert.True(new FileInfo(log).Length >= intactLength, $"{junk}: the log was cut below its last good record");
    }

    [Fact]
    public async Task A_node_whose_newest_log_has_junk_followed_by_a_good_record_refuses_to_start()
    {
        var topology = TestTopology.SingleNode(_directory);
        await WriteThenKillAsync(topology);
        var log = NewestLog(topology);
        var bytes = await File.ReadAllBytesAsync(log);
        var lastRecord = LastRecordOf(bytes);
        await File.WriteAllBytesAsync(log, [.. bytes[..^lastRecord.Length], .. "junk"u8, .. lastRecord]);

        await using var node = NodeProcess.Launch(topology.Path, topology.Nodes[0].Name);
        Assert.Equal(1, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(node.LoggedEvent(4), $"no corrupt-log event (4) in:{Environment.NewLine}{node.Output}");
        Assert.Contains("a good record starts at offset", node.Output); // the reason it gives
    }

    private static byte[] LastRecordOf(byte[] log)
    {
        var position = LogRecordFormat.FileHeaderSize;
        var last = position;
        while (position < log.Length && LogRecordFormat.TryReadRecordHeader(log.AsSpan(position), out var length, out _))
        {
            last = position;
            position += LogRecordFormat.RecordHeaderSize + length;
        }
        Assert.True(position == log.Length && position > LogRecordFormat.FileHeaderSize, "the log should end with whole records");
        return log[last..];
    }
}
