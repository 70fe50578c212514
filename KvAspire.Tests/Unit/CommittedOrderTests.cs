using System.Text;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvAspire.Tests.Unit;

/// <summary>
/// <see cref="CommittedOrder"/> behind a real DotNext write-ahead log, in process: committed entries come out
/// in F3 in commit order with their Raft index and term; Raft's own entries and undecodable entries come
/// out as nothing; a snapshot from the leader becomes the
/// map's state and Raft's snapshot; an entry that cannot be applied stops the node.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommittedOrderTests : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly NodeDataDirectory _data = new();
    private readonly PipelineQueues _queues;
    private readonly ApplicationLifetime _lifetime = new(NullLogger<ApplicationLifetime>.Instance);
    private readonly FailStop _failStop;
    private CommittedOrder? _order;
    private WriteAheadLog? _wal;

    public CommittedOrderTests()
    {
        _queues = new PipelineQueues(NodeOptions.For(TopologyLoader.Load(TestTopology.SingleNode(_directory).Path)));
        _failStop = new FailStop(_lifetime);
    }

    public async ValueTask DisposeAsync()
    {
        if (_wal is not null)
            await _wal.DisposeAsync();
        _data.Dispose();
        _directory.Dispose();
    }

    private async Task<WriteAheadLog> OpenAsync()
    {
        _order = new CommittedOrder(_queues, _data.Recover(), _failStop, NullLogger<CommittedOrder>.Instance);
        _wal = new WriteAheadLog(new WriteAheadLog.Options { Location = _data.File("raft") }, _order);
        await _wal.InitializeAsync();
        return _wal;
    }

    private static ReadOnlyMemory<byte> Payload(KvOperation command) => LogRecordFormat.EncodeOperations(1000, [command]);

    private static KvOperation Create(string key, string client = "c", ulong sequence = 1) =>
        new(OperationKind.Create, key, Encoding.UTF8.GetBytes("v"), RequestId: new ClientRequestId(client, sequence));

    private static async Task<long> CommitAsync(WriteAheadLog wal, ReadOnlyMemory<byte> payload, long term = 1, object? context = null)
    {
        var index = await wal.AppendAsync(new BinaryLogEntry { Content = payload, Term = term, Context = context });
        await wal.CommitAsync(index);
        await wal.WaitForApplyAsync(index);
        return index;
    }

    private List<PipelineItem> Drain()
    {
        var items = new List<PipelineItem>();
        while (_queues.ToApply.Reader.TryRead(out var item))
            items.Add(item);
        return items;
    }

    [Fact]
    public async Task Committed_writes_reach_the_map_in_commit_order_with_their_index_and_term()
    {
        var wal = await OpenAsync();
        await CommitAsync(wal, Payload(Create("a", sequence: 1)), term: 2);
        await CommitAsync(wal, Payload(Create("b", sequence: 2)), term: 3);

        var applied = Drain().Cast<CommittedWrites>().Select(c => c.Entry).ToList();
        Assert.Equal([("a", 1L, 2L), ("b", 2L, 3L)], applied.Select(e => (e.Operations.Single().Key, e.Index, e.Term)));
        Assert.Equal(2, _order!.OrderedIndex);
    }

    [Fact]
    public async Task The_waiting_command_is_the_one_answered_only_when_its_request_id_matches()
    {
        var wal = await OpenAsync();
        var waiting = new PendingRequest(Create("a", sequence: 7), default);
        var stale = new PendingRequest(Create("a", sequence: 8), default);
        await CommitAsync(wal, Payload(Create("a", sequence: 7)), context: new[] { waiting });
        await CommitAsync(wal, Payload(Create("b", sequence: 9)), context: new[] { stale });

        var applied = Drain().Cast<CommittedWrites>().ToList();
        Assert.Same(waiting, applied[0].Waiting.Single());
        Assert.Equal(1, waiting.Entry!.Index);
        Assert.Null(applied[1].Waiting.Single());
        Assert.Null(stale.Entry);
    }

    [Fact]
    public async Task A_request_committed_twice_with_the_same_waiting_command_travels_as_two_items()
    {
        var wal = await OpenAsync();
        var waiting = new PendingRequest(Create("a", sequence: 7), default);
        await CommitAsync(wal, Payload(Create("a", sequence: 7)), context: new[] { waiting });
        await CommitAsync(wal, Payload(Create("between", sequence: 8)));
        await CommitAsync(wal, Payload(Create("a", sequence: 7)), context: new[] { waiting });

        var applied = Drain().Cast<CommittedWrites>().ToList();
        Assert.Equal([1L, 2L, 3L], applied.Select(c => c.Entry.Index));
        Assert.Same(waiting, applied[0].Waiting.Single());
        Assert.Null(applied[2].Waiting.Single());
        Assert.Equal(1, waiting.Entry!.Index);
    }

    [Fact]
    public async Task An_entry_of_several_writes_travels_as_one_item_each_write_with_the_request_that_proposed_it()
    {
        var wal = await OpenAsync();
        var proposers = new[] { new PendingRequest(Create("a", sequence: 1), default), new PendingRequest(Create("b", "d", sequence: 1), default) };
        await CommitAsync(wal, LogRecordFormat.EncodeOperations(1000, [proposers[0].Operation, proposers[1].Operation]), context: proposers);

        var applied = Assert.IsType<CommittedWrites>(Assert.Single(Drain()));
        Assert.Equal(["a", "b"], applied.Entry.Operations.Select(o => o.Key));
        Assert.Equal(proposers, applied.Waiting);
        Assert.All(proposers, p => Assert.Same(applied.Entry, p.Entry));
    }

    [Fact]
    public async Task Raft_entries_of_its_own_and_undecodable_entries_are_skipped_without_throwing()
    {
        var wal = await OpenAsync();
        await CommitAsync(wal, ReadOnlyMemory<byte>.Empty);
        await CommitAsync(wal, new byte[] { 1, 2, 3, 4 });
        await CommitAsync(wal, Encoding.UTF8.GetBytes("not a command at all, but long enough to look like one............"));
        var last = await CommitAsync(wal, Payload(Create("after")));

        Assert.Equal(["after"], Drain().Cast<CommittedWrites>().Select(c => c.Entry.Operations.Single().Key));
        Assert.Equal(last, _order!.OrderedIndex);
    }

    [Fact]
    public async Task Commit_timestamps_never_go_backwards()
    {
        var wal = await OpenAsync();
        await CommitAsync(wal, LogRecordFormat.EncodeOperations(5000, [Create("a", sequence: 1)]));
        await CommitAsync(wal, LogRecordFormat.EncodeOperations(4000, [Create("b", sequence: 2)]));

        Assert.Equal([5000L, 5000L], Drain().Cast<CommittedWrites>().Select(c => c.Entry.TimestampUnixMs));
    }

    [Fact]
    public async Task A_snapshot_from_the_leader_becomes_the_map_and_raft_s_snapshot()
    {
        var wal = await OpenAsync();
        var leaderMap = new KvMap();
        for (var i = 1; i <= 5; i++)
            leaderMap.Apply(new CommittedEntry(i, 4, 2000 + i, [Create($"k{i}", sequence: (ulong)i)]));
        using var leaderFiles = new TempDirectory();
        SnapshotFile.Write(leaderFiles.Path, 9, leaderMap.Freeze());
        var sent = new StoredSnapshot(leaderFiles.Path, 9, 5, 4, Task.CompletedTask);

        var installing = wal.AppendAsync(sent, 5).AsTask();
        var marker = (SnapshotMarker)await _queues.ToApply.Reader.ReadAsync();
        Assert.Equal(5, marker.Install!.LastIndex);
        Assert.Equal(["k1", "k2", "k3", "k4", "k5"], marker.Install.Values.Keys.Order());
        marker.MarkWritten(5, 4);
        await installing;

        Assert.Equal((5L, 4L), (_order!.Snapshot!.Index, _order.Snapshot.Term));
        Assert.Equal(5, _order.OrderedIndex);
        var next = await CommitAsync(wal, Payload(Create("after", sequence: 6)), term: 4);
        Assert.Equal(6, next);
        Assert.Equal(6, Drain().Cast<CommittedWrites>().Single().Entry.Index);
    }

    [Fact]
    public async Task A_committed_entry_that_cannot_be_applied_stops_the_node_and_is_not_counted_applied()
    {
        var wal = await OpenAsync();
        await CommitAsync(wal, Payload(Create("a", sequence: 1)));
        using var leaderFiles = new TempDirectory();
        File.WriteAllBytes(Path.Combine(leaderFiles.Path, DataFiles.SnapshotName(9)), [1, 2, 3, 4, 5, 6, 7, 8]);
        var damaged = new StoredSnapshot(leaderFiles.Path, 9, 5, 4, Task.CompletedTask);

        await Assert.ThrowsAnyAsync<Exception>(() => wal.AppendAsync(damaged, 5).AsTask());

        Assert.True(_failStop.Stopped);
        Assert.True(_lifetime.ApplicationStopping.IsCancellationRequested);
        Assert.Equal(1, _order!.OrderedIndex);
    }

    [Fact]
    public async Task A_snapshot_is_placed_after_the_last_write_and_skipped_when_only_raft_entries_followed()
    {
        var wal = await OpenAsync();
        Assert.Null(await _order!.StartSnapshotAsync(CancellationToken.None));

        await CommitAsync(wal, Payload(Create("a", sequence: 1)));
        await SnapshotAsync(lastIndex: 1);
        Assert.Equal([typeof(CommittedWrites), typeof(SnapshotMarker)], Drain().Select(i => i.GetType()));
        await CommitAsync(wal, Payload(Create("b", sequence: 2)));
        await SnapshotAsync(lastIndex: 2);
        await Wait.UntilAsync(() => _order.Snapshot?.Index == 1, TimeSpan.FromSeconds(5), "snapshot 1 to become Raft's snapshot");

        await CommitAsync(wal, ReadOnlyMemory<byte>.Empty);
        Assert.Null(await _order.StartSnapshotAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Raft_is_told_of_the_snapshot_before_the_newest_so_a_replica_a_few_entries_behind_gets_entries_not_the_map()
    {
        var wal = await OpenAsync();
        await CommitAsync(wal, Payload(Create("a", sequence: 1)));
        await SnapshotAsync(lastIndex: 1);
        Assert.Null(_order!.Snapshot);
        await CommitAsync(wal, Payload(Create("b", sequence: 2)));
        await CommitAsync(wal, Payload(Create("c", sequence: 3)));
        await SnapshotAsync(lastIndex: 3);
        await Wait.UntilAsync(() => _order.Snapshot?.Index == 1, TimeSpan.FromSeconds(5), "snapshot 1 to become Raft's snapshot");

        // What the leader reads for a replica that has entry 1: entries 2 and 3 from the log, no snapshot.
        Assert.Equal((null, 2), await wal.ReadAsync(new EntriesRead(), 2, 3));
        // One that lacks entry 1 gets snapshot 1, then entries 2 and 3.
        Assert.Equal(((long?)1, 3), await wal.ReadAsync(new EntriesRead(), 1, 3));
    }

    private async Task SnapshotAsync(long lastIndex)
    {
        var marker = await _order!.StartSnapshotAsync(CancellationToken.None);
        Assert.NotNull(marker);
        marker.MarkWritten(lastIndex, 1);
    }

    /// <summary>Whether Raft's log answered a read with its snapshot (and at which index), and how many entries.</summary>
    private sealed class EntriesRead : DotNext.IO.Log.ILogEntryConsumer<IRaftLogEntry, (long? SnapshotIndex, int Count)>
    {
        public ValueTask<(long? SnapshotIndex, int Count)> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry> =>
            ValueTask.FromResult((snapshotIndex, entries.Count));
    }
}
