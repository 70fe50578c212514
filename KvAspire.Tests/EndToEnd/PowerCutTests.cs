using KvAspire.Driver.Transport;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// A power cut on all three replicas of a group at once, under concurrent writes, in rounds: every
/// replica is killed together, and its data directory becomes what its syncs made durable
/// (<see cref="PowerCutDisk"/>: unsynced bytes gone, and the entries of files created since their
/// directory's last sync). Nothing acknowledged may be missing afterwards.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class PowerCutTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [PowerCutFact]
    public async Task Nothing_acknowledged_is_lost_when_the_power_fails_on_every_replica_at_once()
    {
        // Snapshots every 2 s: the cuts also land while logs rotate and snapshots are renamed into place.
        var topology = TestTopology.Ring(_directory, positions: 1, replicas: 3, snapshotIntervalSeconds: 2);
        using var disk = new PowerCutDisk(Path.GetDirectoryName(topology.DataDirectory)!);
        var writes = new AcknowledgedWrites();
        var addresses = topology.Nodes.Select(n => n.GrpcEndPoint).ToList();

        for (var round = 0; round < 3; round++)
        {
            await using (var cluster = await LocalCluster.StartAsync(topology, disk.Environment))
            {
                using var connection = new KvConnection(addresses, TimeSpan.FromSeconds(5));
                await writes.AssertAllPresentAsync(connection);
                var writers = writes.Start(connection, $"r{round}", 16);
                await writes.WaitForCountAsync(writes.Count + 600, TimeSpan.FromSeconds(60));
                await Task.WhenAll(topology.Nodes.Select(cluster.KillAsync));
                await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
            }
            disk.Cut();
        }

        await using var restarted = await LocalCluster.StartAsync(topology, disk.Environment);
        using var final = new KvConnection(addresses, TimeSpan.FromSeconds(5));
        await writes.AssertAllPresentAsync(final);
        Assert.True(writes.Count >= 1800, $"only {writes.Count} writes were acknowledged");
    }
}
