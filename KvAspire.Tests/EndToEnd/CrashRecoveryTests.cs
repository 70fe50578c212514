extern alias client;
using client::KvAspire.Client.Connection;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>Stop a node under load (kill -9, or SIGTERM) and restart it: every acknowledged write is back.</summary>
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
            using var connection = new KvConnection([topology.GrpcAddress], TimeSpan.FromSeconds(5));
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
        using var final = new KvConnection([topology.GrpcAddress], TimeSpan.FromSeconds(5));
        await writes.AssertAllPresentAsync(final);
        Assert.True(writes.Count >= 4500, $"only {writes.Count} writes were acknowledged");
    }
}
