using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Driver;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Leases against the 1×3 group of real node processes that <see cref="SharedGroupCollection"/> shares: a
/// lease left to lapse takes its keys with it at one revision, never before its TTL; a lease kept alive
/// keeps them across leader changes, and revoking it takes them at once.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class LeaseTests(KvClientTests.Group group)
{
    private static readonly byte[] Value = Encoding.UTF8.GetBytes("held");

    [Fact]
    public async Task A_lease_not_kept_alive_deletes_its_keys_at_one_revision_no_sooner_than_its_TTL_and_soon_after()
    {
        using var client = group.Client();
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var follower = group.Cluster.Topology.ReplicasOf(0).First(n => n != leader);
        using var channel = GrpcChannel.ForAddress($"http://{follower.GrpcEndPoint}");
        var events = new System.Collections.Concurrent.ConcurrentQueue<KvEvent>();
        using var stop = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            await foreach (var change in client.WatchAsync("{lapse}", new KvWatchOptions { Prefix = true, ProgressNotices = true }, stop.Token))
                events.Enqueue(change);
        });
        await Wait.UntilAsync(() => !events.IsEmpty, TimeSpan.FromSeconds(30), "the watch to start");

        // Granted through a follower with the raw API, and never kept alive: the TTL asked for is below the
        // minimum (three elections, 3.6 s with the group's 600 ms election timeout), which it is raised to.
        var sent = Stopwatch.StartNew();
        var grant = await new Lease.LeaseClient(channel).GrantAsync(new LeaseGrantRequest { TtlMs = 1500, PlaceWith = "{lapse}" });
        var ttl = TimeSpan.FromMilliseconds(grant.TtlMs);
        await client.CreateAsync("{lapse}b", Value, grant.Lease);
        await client.CreateAsync("{lapse}a", Value, grant.Lease);
        var alive = (await client.LeaseTimeToLiveAsync(grant.Lease)).Keys;
        await Wait.UntilAsync(async () => !await client.ExistsAsync("{lapse}a"), TimeSpan.FromSeconds(15), "the lease to expire");
        var gone = sent.Elapsed;

        Assert.Equal(3600, grant.TtlMs);
        Assert.Equal(["{lapse}a", "{lapse}b"], alive);
        Assert.True(gone >= ttl, $"the keys went {gone.TotalMilliseconds:F0} ms after the grant was sent, before its TTL of {ttl.TotalMilliseconds:F0} ms");
        Assert.True(gone <= ttl + TimeSpan.FromSeconds(2), $"the keys went {gone.TotalMilliseconds:F0} ms after the grant was sent");
        Assert.False(await client.ExistsAsync("{lapse}b"));
        await Wait.UntilAsync(() => events.Count(e => e.Kind == KvEventKind.Delete) == 2, TimeSpan.FromSeconds(10), "both deletes watched");
        var deletes = events.Where(e => e.Kind == KvEventKind.Delete).ToList();
        Assert.Equal(["{lapse}a", "{lapse}b"], deletes.Select(e => e.Key));
        Assert.Single(deletes.Select(e => e.Revision).Distinct());
        await Assert.ThrowsAsync<KvLeaseNotFoundException>(() => client.KeepLeaseAliveAsync(grant.Lease));
        await Assert.ThrowsAsync<KvLeaseNotFoundException>(() => client.CreateAsync("{lapse}c", Value, grant.Lease));
        Assert.False(await client.ExistsAsync("{lapse}c"));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task A_lease_kept_alive_holds_its_keys_across_leader_changes_and_revoking_it_deletes_them_at_once()
    {
        using var client = group.Client();
        var ttl = TimeSpan.FromSeconds(4);
        var lease = await client.GrantLeaseAsync(ttl, "{kept}");
        await client.CreateAsync("{kept}a", Value, lease.Id);
        await client.UpdateAsync("{kept}a", Value, null, lease.Id);
        await client.CreateAsync("{kept}free", Value);

        for (var round = 0; round < 2; round++)
        {
            var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
            using (var channel = GrpcChannel.ForAddress($"http://{leader.GrpcEndPoint}"))
                await new Admin.AdminClient(channel).StepDownAsync(new StepDownRequest());
            // Longer than the TTL: only the keep-alives, across the new leader, keep the key.
            await Task.Delay(ttl * 1.5);
            Assert.True(await client.ExistsAsync("{kept}a"), $"round {round}: the key of a lease kept alive is gone");
        }
        var status = await client.LeaseTimeToLiveAsync(lease.Id);

        Assert.False(lease.Lost.IsCancellationRequested);
        Assert.Equal(["{kept}a"], status.Keys);
        Assert.Equal(ttl, status.Ttl);
        Assert.InRange(status.Remaining, TimeSpan.Zero, ttl);

        await lease.DisposeAsync();

        Assert.False(await client.ExistsAsync("{kept}a"));
        Assert.True(await client.ExistsAsync("{kept}free"));
        await Assert.ThrowsAsync<KvLeaseNotFoundException>(() => client.RevokeLeaseAsync(lease.Id));
        var invalid = await Assert.ThrowsAsync<KvException>(() => client.CreateAsync("{kept}b", Value, lease: -1));
        Assert.Equal(StatusCode.InvalidArgument, invalid.Status);
    }
}
