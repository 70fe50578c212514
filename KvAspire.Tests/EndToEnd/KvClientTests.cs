using Grpc.Core;
using KvAspire.Driver;
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
            Cluster = await LocalCluster.StartAsync(TestTopology.Ring(_directory, positions: 1, replicas: 3), Traces.EnvironmentFor("group"));
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
