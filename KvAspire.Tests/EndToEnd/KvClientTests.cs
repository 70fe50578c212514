using Grpc.Core;
using KvAspire.Driver;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The client library against a 1×3 group of real node processes, shared with the other classes of
/// <see cref="SharedGroupCollection"/> (the test that kills a node starts it again): its typed exceptions, calls made without awaiting kept
/// in order per key, and a write retried across a killed leader applied once. (Routing straight to a
/// key's leader is checked on a ring, in <see cref="RingTests"/>.)
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class KvClientTests(KvClientTests.Group group)
{
    /// <summary>The 1×3 group the tests of <see cref="SharedGroupCollection"/> share.</summary>
    public sealed class Group : IAsyncLifetime
    {
        private readonly TempDirectory _directory = new();

        public LocalCluster Cluster { get; private set; } = null!;

        /// <summary>A client given every node of the group.</summary>
        public KvClient Client() => new(new KvClientOptions { Nodes = [.. Cluster.Topology.Nodes.Select(n => n.GrpcEndPoint)] });

        /// <summary>The spans the group's nodes export (all under one service name).</summary>
        public OtlpTraceReceiver Traces { get; } = new();

        /// <summary>Started, and counting revisions on every replica (from the baseline its leader proposes once all run).</summary>
        public async Task InitializeAsync()
        {
            // A small history of events, full after the memory test's first rounds: what it keeps is bounded, not grown.
            Cluster = await LocalCluster.StartAsync(TestTopology.Ring(_directory, positions: 1, replicas: 3, watchHistoryMiB: 1), Traces.EnvironmentFor("group"));
            await Wait.UntilAsync(async () => (await Task.WhenAll(Cluster.Topology.Nodes.Select(GroupProbe.StatusAsync))).All(status => status is { Revision: > 0 }),
                TimeSpan.FromSeconds(30), "every replica to count revisions");
        }

        public async Task DisposeAsync()
        {
            await Cluster.DisposeAsync();
            Traces.Dispose();
            _directory.Dispose();
        }
    }

    private KvClient Client() => group.Client();

    [Fact]
    public async Task Each_outcome_an_app_handles_is_its_own_exception_naming_the_key()
    {
        using var client = Client();
        await client.CreateAsync("typed", "v");

        var missing = await Assert.ThrowsAsync<KvKeyNotFoundException>(() => client.ReadAsync("typed-missing"));
        var exists = await Assert.ThrowsAsync<KvKeyExistsException>(() => client.CreateAsync("typed", "again"));
        var mismatch = await Assert.ThrowsAsync<KvVersionMismatchException>(() => client.UpdateAsync("typed", "w", expectedVersion: 7));
        var deleteMismatch = await Assert.ThrowsAsync<KvVersionMismatchException>(() => client.DeleteAsync("typed", expectedVersion: 2));

        Assert.Equal(("typed-missing", StatusCode.NotFound), (missing.Key, missing.Status));
        Assert.Equal(("typed", StatusCode.AlreadyExists), (exists.Key, exists.Status));
        Assert.Equal(("typed", 7L), (mismatch.Key, mismatch.ExpectedVersion));
        Assert.Equal(2L, deleteMismatch.ExpectedVersion);
        Assert.All(new KvException[] { missing, exists, mismatch, deleteMismatch }, e => Assert.NotNull(e.Node));
        var entry = await client.ReadAsync("typed");
        Assert.Equal(("v", 1L), (entry.Text, entry.Version));
    }

    [Fact]
    public async Task A_key_reports_its_revisions_and_each_change_takes_the_next_revision_of_its_position()
    {
        using var client = Client();

        var created = await client.CreateAsync("revisions", "1");
        var updated = await client.UpdateAsync("revisions", "2");
        var read = await client.ReadAsync("revisions");
        var deleted = await client.DeleteAsync("revisions");

        Assert.True(created.Revisions.Modify > 1, $"created at revision {created.Revisions.Modify}, after the baseline (1)");
        Assert.Equal(created.Revisions.Modify, created.Revisions.Create);
        Assert.Equal(created.Revisions.Create, updated.Revisions.Create);
        Assert.True(updated.Revisions.Modify > created.Revisions.Modify);
        Assert.Equal((updated.Revisions.Create, updated.Revisions.Modify), (read.Revisions.Create, read.Revisions.Modify));
        Assert.True(read.Revisions.Position >= updated.Revisions.Modify);
        Assert.True(deleted.Revisions.Modify > read.Revisions.Position);
        Assert.Equal(created.Revisions.Create, deleted.Revisions.Create);
    }

    [Fact]
    public async Task Transfers_made_by_transactions_from_many_callers_at_the_leader_and_a_follower_keep_the_total_and_each_take_one_revision()
    {
        string[] accounts = ["{bank}a", "{bank}b", "{bank}c", "{bank}d"];
        using var client = Client();
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        using var atFollower = new KvClient(new KvClientOptions
        {
            Nodes = [group.Cluster.Topology.Nodes.First(n => n != leader).GrpcEndPoint], RouteToLeaders = false,
        });
        foreach (var account in accounts)
            await client.CreateAsync(account, "100");

        // Each caller moves 1 from one account to the next, 20 times: it reads both, then writes both only if
        // neither changed since (their modify revisions), else reads again and retries.
        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            var kv = caller % 2 == 0 ? client : atFollower;
            var committed = new List<KvTxnResult>();
            var (from, to) = (accounts[caller % 4], accounts[(caller + 1) % 4]);
            while (committed.Count < 20)
            {
                var seen = await kv.TxnAsync(new KvTransaction().ThenRead(from).ThenRead(to));
                var (source, target) = (seen.Results[0], seen.Results[1]);
                var moved = await kv.TxnAsync(new KvTransaction()
                    .IfModRevision(from, CompareResult.Equal, source.Revisions.Modify)
                    .IfModRevision(to, CompareResult.Equal, target.Revisions.Modify)
                    .ThenPut(from, $"{long.Parse(source.Text) - 1}")
                    .ThenPut(to, $"{long.Parse(target.Text) + 1}"));
                if (moved.Succeeded)
                    committed.Add(moved);
            }
            return committed;
        })).ToArray();
        var transfers = (await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(120))).SelectMany(c => c).ToList();

        var balances = (await client.TxnAsync(new KvTransaction().ThenRead(accounts[0]).ThenRead(accounts[1]).ThenRead(accounts[2]).ThenRead(accounts[3])))
            .Results.Select(r => long.Parse(r.Text)).ToList();
        Assert.Equal(400, balances.Sum());
        Assert.Equal(160, transfers.Count);
        Assert.All(transfers, t => Assert.Equal(t.Revision, Assert.Single(t.Results.Select(r => r.Revisions.Modify).Distinct())));
        Assert.Equal(transfers.Count, transfers.Select(t => t.Revision).Distinct().Count());
        // Each caller's net effect: 20 out of its first account, 20 into the next; the four callers of each pair cancel out.
        Assert.Equal([100L, 100L, 100L, 100L], balances);
    }

    [Fact]
    public async Task A_watch_from_a_lists_revisions_sees_every_later_change_once_in_order_while_the_node_serving_it_stops()
    {
        using var client = Client();
        for (var i = 0; i < 10; i++)
            await client.CreateAsync($"watched/{i}", "0");
        await client.CreateAsync("unwatched", "0");
        var listed = await client.ListAsync("watched/").ToListAsync();
        var after = new Dictionary<int, long> { [0] = listed.Max(item => item.Revisions.Position) };

        // The watch's client calls the victim first; the writes go to the leader.
        var victim = group.Cluster.Topology.Nodes[1];
        using var watcher = new KvClient(new KvClientOptions
        {
            Nodes = [victim.GrpcEndPoint, .. group.Cluster.Topology.Nodes.Where(n => n != victim).Select(n => n.GrpcEndPoint)],
        });
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<KvEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var change in watcher.WatchAsync("watched/", new KvWatchOptions { Prefix = true, After = after, PreviousValues = true }, stop.Token))
                seen.Enqueue(change);
        });

        var acknowledged = new List<(string Key, string Value, long Revision)>();
        for (var i = 1; i <= 300; i++)
        {
            if (i == 100)
                Assert.Equal(0, await group.Cluster.StopAsync(victim)); // a node serving watches stops cleanly
            var key = $"watched/{i % 10}";
            if (i % 50 == 0)
            {
                // Two keys in one change: one revision, never split.
                var both = await client.TxnAsync(new KvTransaction().ThenPut(key, $"{i}").ThenPut($"watched/{(i + 1) % 10}", $"{i}"));
                acknowledged.Add((key, $"{i}", both.Revision));
                acknowledged.Add(($"watched/{(i + 1) % 10}", $"{i}", both.Revision));
            }
            else
            {
                acknowledged.Add((key, $"{i}", (await client.UpdateAsync(key, $"{i}")).Revisions.Modify));
            }
            await client.UpdateAsync("unwatched", $"{i}");
        }
        await group.Cluster.StartAsync(victim);
        var last = acknowledged[^1].Revision;
        await Wait.UntilAsync(() => seen.Any(change => change.Revision >= last) || watching.IsCompleted, TimeSpan.FromSeconds(60), "the last write's event");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);

        var events = seen.ToList();
        Assert.All(events, change => Assert.Equal((KvEventKind.Put, 0), (change.Kind, change.Position)));
        Assert.Equal(acknowledged.Select(write => (write.Key, write.Value, write.Revision)),
            events.Select(change => (change.Key, change.Text, change.Revision)));
        Assert.All(events, change => Assert.Equal(change.Revision, change.Revisions.Modify));
        Assert.All(events.Where(change => change.Previous is not null), change => Assert.True(change.Previous!.Version == change.Version - 1));
        await group.Cluster.WaitCaughtUpAsync(victim, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_progress_request_to_a_watch_at_a_follower_is_answered_past_every_write_acknowledged_before_it_and_after_its_event()
    {
        using var client = Client();
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var follower = group.Cluster.Topology.Nodes.First(n => n != leader);
        using var watcher = new KvClient(new KvClientOptions { Nodes = [follower.GrpcEndPoint], RouteToLeaders = false });
        var progress = new KvWatchProgress();
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<KvEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var change in watcher.WatchAsync("progress/", new KvWatchOptions { Prefix = true, ProgressRequests = progress, ProgressNotices = true }, stop.Token))
                seen.Enqueue(change);
        });
        await Wait.UntilAsync(() => !seen.IsEmpty || watching.IsCompleted, TimeSpan.FromSeconds(30), "the watch to start");

        for (var round = 1; round <= 20; round++)
        {
            // A burst of writes acknowledged by the leader, then at once a request to the follower's watch.
            var writes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.CreateAsync($"progress/{round}/{i}", "v")));
            var request = await progress.RequestAsync();
            await Wait.UntilAsync(() => seen.Any(change => change.AnsweredRequest == request) || watching.IsCompleted, TimeSpan.FromSeconds(30), "the answer");

            var events = seen.ToList();
            var at = events.FindIndex(change => change.AnsweredRequest == request);
            var answer = events[at];
            var yieldedBefore = events.Take(at).Where(change => change.Kind == KvEventKind.Put).Select(change => change.Key).ToHashSet();
            Assert.True(answer.Revision >= writes.Max(w => w.Revisions.Modify), $"round {round}: answered at {answer.Revision}, below a write acknowledged before the request");
            Assert.All(Enumerable.Range(0, 20), i => Assert.Contains($"progress/{round}/{i}", yieldedBefore));
        }
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task A_cluster_that_does_not_answer_is_KvUnavailableException_with_no_position_as_the_ring_was_never_learned()
    {
        using var directory = new TempDirectory();
        var silent = TestTopology.Ring(directory, positions: 2);
        using var client = new KvClient(new KvClientOptions { Nodes = [.. silent.Nodes.Select(n => n.GrpcEndPoint)], RequestTimeout = TimeSpan.FromSeconds(2) });

        var failure = await Assert.ThrowsAsync<KvUnavailableException>(() => client.ReadAsync("silent"));

        Assert.Null(failure.Position);
        Assert.Equal(StatusCode.Unavailable, failure.Status);
    }

    [Fact]
    public async Task A_thousand_updates_of_one_key_made_without_awaiting_take_effect_in_the_order_made()
    {
        using var client = Client();
        await client.CreateAsync("ordered", "v0");

        // Each update expects the version the one before it leaves: any two taking effect out of order fail.
        var updates = Enumerable.Range(1, 1000).Select(i => client.UpdateAsync("ordered", $"v{i}", expectedVersion: i)).ToList();
        var results = await Task.WhenAll(updates);

        Assert.Equal(Enumerable.Range(2, 1000).Select(v => (long)v), results.Select(r => r.Version));
        var entry = await client.ReadAsync("ordered");
        Assert.Equal(("v1000", 1001L), (entry.Text, entry.Version));
    }

    [Fact]
    public async Task A_write_retried_across_a_killed_leader_is_applied_once()
    {
        using var client = Client();
        await client.CreateAsync("retried", "0");
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var killed = $"http://{leader.GrpcEndPoint}";
        // Once the client has learned the ring, its calls go straight to the leader.
        await Wait.UntilAsync(async () => (await client.ReadAsync("retried")).Node == killed, TimeSpan.FromSeconds(30), "a read answered by the leader");
        var answers = new List<KvWriteResult>();
        var acknowledged = 0;
        var writes = Task.Run(async () =>
        {
            for (var i = 1; i <= 400; i++)
            {
                answers.Add(await client.UpdateAsync("retried", $"{i}"));
                Interlocked.Increment(ref acknowledged);
            }
        });
        await Wait.UntilAsync(() => Volatile.Read(ref acknowledged) >= 100 || writes.IsCompleted, TimeSpan.FromSeconds(30), "100 writes");

        await group.Cluster.KillAsync(leader);
        await writes.WaitAsync(TimeSpan.FromSeconds(60));
        await group.Cluster.StartAsync(leader);
        await group.Cluster.WaitCaughtUpAsync(leader, TimeSpan.FromSeconds(60));

        Assert.Equal(killed, answers[0].Node);
        Assert.NotEqual(killed, answers[^1].Node);
        // Every update acknowledged once, each one version after the one before: none was applied twice.
        Assert.Equal(Enumerable.Range(2, 400).Select(v => (long)v), answers.Select(a => a.Version));
        Assert.Equal(401, (await client.ReadAsync("retried")).Version);
    }
}

/// <summary>
/// Test classes that share one 1×3 group (<see cref="KvClientTests.Group"/>), one test at a time and not
/// alongside other topologies on two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedGroupCollection : ICollectionFixture<KvClientTests.Group>
{
    public const string Name = "Shared 1x3 group";
}
