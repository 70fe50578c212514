using System.Buffers;
using System.Text;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
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
/// Raft's persistence rule with <c>log.X</c> as the durable copy of DotNext's in-memory log. A follower: the
/// entries of an AppendEntries batch are in <c>log.X</c> when the append returns, before it answers. The
/// leader: an entry it appended is in <c>log.X</c> by the time its commit returns, so it never counts a copy
/// it could lose. The crash image is a copy of the data directory taken the moment the call returns (DotNext's
/// log, in memory, is gone): what a <c>kill -9</c> at that moment leaves (the page cache survives a process
/// crash; the copy reads through it). A restart from it hands the entries back to Raft.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DurableLogTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly NodeDataDirectory _live = new();
    private readonly NodeDataDirectory _crashImage = new();

    public void Dispose()
    {
        _crashImage.Dispose();
        _live.Dispose();
        _directory.Dispose();
    }

    private static BufferedRaftEntry Entry(int i, long term = 1) => new() { Content = Encoding.UTF8.GetBytes($"entry {i}"), Term = term };

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(500)]
    public async Task Entries_a_follower_acknowledged_are_still_in_its_log_after_a_crash_right_after_the_append(int count)
    {
        await using (var follower = await Member.StartAsync(_directory, _live.Path))
        {
            // The follower's path: one AppendEntries batch, through the interface that Raft calls.
            var batch = Enumerable.Range(1, count).Select(i => Entry(i)).ToList();
            await follower.Raft.AppendAsync(new LogEntryProducer<BufferedRaftEntry>(batch), 1, skipCommitted: true);
            CopyDirectory(_live.Path, _crashImage.Path);
        }

        await using var restarted = await Member.StartAsync(_directory, _crashImage.Path);
        Assert.Equal(count, restarted.Log.LastEntryIndex);
        Assert.Equal(Enumerable.Range(1, count).Select(i => $"entry {i}"), await restarted.BodiesAsync(1, count));
    }

    [Fact]
    public async Task An_entry_the_leader_commits_is_in_its_log_after_a_crash_right_after_the_commit()
    {
        await using (var leader = await Member.StartAsync(_directory, _live.Path))
        {
            // The leader's path: its own appends (each returning before its sync: a large one keeps the log
            // worker busy), then the commit once a majority holds the entries.
            await leader.Raft.AppendAsync(new BufferedRaftEntry { Content = new byte[32 * 1024 * 1024], Term = 1 });
            var index = await leader.Raft.AppendAsync(Entry(2));
            await ((IAuditTrail)leader.Log).CommitAsync(index);
            CopyDirectory(_live.Path, _crashImage.Path);
        }

        await using var restarted = await Member.StartAsync(_directory, _crashImage.Path);
        Assert.Equal(2, restarted.Log.LastEntryIndex);
        Assert.Equal(["entry 2"], await restarted.BodiesAsync(2, 2));
    }

    [Fact]
    public async Task Entries_a_new_leader_replaced_stay_replaced_after_a_restart()
    {
        await using (var follower = await Member.StartAsync(_directory, _live.Path))
        {
            await follower.Raft.AppendAsync(new LogEntryProducer<BufferedRaftEntry>([Entry(1), Entry(2), Entry(3)]), 1, skipCommitted: true);
            // A leader of term 2 cuts the log after entry 1 and sends its own entry 2.
            await follower.Raft.AppendAsync(new LogEntryProducer<BufferedRaftEntry>([Entry(20, term: 2)]), 2, skipCommitted: true);
            CopyDirectory(_live.Path, _crashImage.Path);
        }

        await using var restarted = await Member.StartAsync(_directory, _crashImage.Path);
        Assert.Equal(2, restarted.Log.LastEntryIndex);
        Assert.Equal(["entry 1", "entry 20"], await restarted.BodiesAsync(1, 2));
    }

    [Fact]
    public async Task Committed_writes_come_back_applied_and_raft_goes_on_after_the_last_entry()
    {
        var write = LogRecordFormat.EncodeOperations(1000, [new KvOperation(OperationKind.Create, "a", "1"u8.ToArray())]);
        await using (var leader = await Member.StartAsync(_directory, _live.Path))
        {
            var first = await leader.Raft.AppendAsync(new BufferedRaftEntry { Content = write, Term = 1 });
            await ((IAuditTrail)leader.Log).CommitAsync(first);
            // The commit record rides with the next entry, which itself is never committed.
            await leader.Raft.AppendAsync(Entry(2));
            await leader.Log.WaitForApplyAsync(first);
        }

        var recovered = _live.Recover();
        Assert.Equal((1L, 2L), (recovered.CommitIndex, recovered.LastIndex));
        Assert.Equal("1", Encoding.UTF8.GetString(recovered.Map.Read("a").Value.Span));

        await using var restarted = await Member.StartAsync(_directory, _live.Path);
        Assert.Equal((1L, 2L), (restarted.Log.LastCommittedEntryIndex, restarted.Log.LastEntryIndex));
        Assert.Equal(3, await restarted.Raft.AppendAsync(Entry(3)));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var directory in Directory.GetDirectories(from))
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }

    /// <summary>One Raft member's storage as a node wires it: recovery, F2 and DotNext's log in memory over it.</summary>
    private sealed class Member : IAsyncDisposable
    {
        private readonly LogWorker _worker;

        private Member(DurableWriteAheadLog log, LogWorker worker)
        {
            Log = log;
            _worker = worker;
        }

        public DurableWriteAheadLog Log { get; }

        public IAuditTrail<IRaftLogEntry> Raft => Log;

        public static async Task<Member> StartAsync(TempDirectory topologyDirectory, string dataDirectory)
        {
            var options = NodeOptions.For(TopologyLoader.Load(TestTopology.SingleNode(topologyDirectory).Path));
            var recovered = Recovery.Run(dataDirectory, 1 << 20, NullLogger.Instance);
            var failStop = new FailStop(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance));
            var worker = new LogWorker(options, recovered, failStop, TestTelemetry.Create(), NullLogger<LogWorker>.Instance);
            await worker.StartAsync(CancellationToken.None);
            var stateMachine = new CommittedOrder(new PipelineQueues(options), recovered, failStop, NullLogger<CommittedOrder>.Instance);
            var log = new DurableWriteAheadLog(new() { Location = RaftLogLocation.Prepare(dataDirectory) }, stateMachine, worker, recovered);
            await log.InitializeAsync();
            return new Member(log, worker);
        }

        public async Task<IEnumerable<string>> BodiesAsync(long from, long to)
        {
            using var entries = await Log.ReadAsync(from, to);
            var bodies = new List<string>();
            for (var i = 0; i < entries.Count; i++)
            {
                Assert.True(entries[i].TryGetPayload(out var payload));
                bodies.Add(Encoding.UTF8.GetString(payload.ToArray()));
            }
            return bodies;
        }

        public async ValueTask DisposeAsync()
        {
            await Log.DisposeAsync();
            await _worker.StopAsync(CancellationToken.None);
        }
    }
}
