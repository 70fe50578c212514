using System.Buffers;
using System.Text;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Configuration;
using KvAspire.Node;
using KvAspire.Node.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Storage;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvAspire.Tests.Unit;

/// <summary>
/// Raft's persistence rule on the real write-ahead log. A follower: the entries of an AppendEntries batch
/// are on disk when the append returns, before it answers. The leader: an entry it appended is on disk
/// by the time its commit returns, so it never counts a copy it could lose. The crash image
/// is a copy of the log's files taken the moment the append returns: what a <c>kill -9</c> at that moment
/// leaves (the page cache survives a process crash; the copy reads through it).
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

    private KvStateMachine StateMachineOver(NodeDataDirectory data) =>
        new(new PipelineQueues(NodeOptions.For(TopologyLoader.Load(TestTopology.SingleNode(_directory).Path))), data.Recover(),
            new FailStop(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance)), NullLogger<KvStateMachine>.Instance);

    private static WriteAheadLog.Options Options(NodeDataDirectory data) => new() { Location = data.File("raft") };

    private static BinaryLogEntry Entry(int i) => new() { Content = Encoding.UTF8.GetBytes($"entry {i}"), Term = 1 };

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(500)]
    public async Task Entries_a_follower_acknowledged_are_still_in_its_log_after_a_crash_right_after_the_append(int count)
    {
        await using (var follower = new DurableWriteAheadLog(Options(_live), StateMachineOver(_live)))
        {
            await follower.InitializeAsync();
            // The follower's path: one AppendEntries batch, through the interface Raft calls.
            var batch = Enumerable.Range(1, count).Select(Entry).ToList();
            await ((IAuditTrail<IRaftLogEntry>)follower).AppendAsync(new LogEntryProducer<BinaryLogEntry>(batch), 1, skipCommitted: true);
            CopyDirectory(_live.File("raft"), _crashImage.File("raft"));
        }

        await using var restarted = new WriteAheadLog(Options(_crashImage), StateMachineOver(_crashImage));
        await restarted.InitializeAsync();
        Assert.Equal(count, restarted.LastEntryIndex);
        using var entries = await restarted.ReadAsync(1, count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i + 1, entries[i].Index);
            Assert.True(entries[i].TryGetPayload(out var payload));
            Assert.Equal($"entry {i + 1}", Encoding.UTF8.GetString(payload.ToArray()));
        }
    }

    [Fact]
    public async Task An_entry_the_leader_commits_is_in_its_log_after_a_crash_right_after_the_commit()
    {
        await using (var leader = new DurableWriteAheadLog(Options(_live), StateMachineOver(_live)))
        {
            await leader.InitializeAsync();
            // The leader's path: its own append, then the commit once a majority holds the entry.
            var index = await ((IAuditTrail<IRaftLogEntry>)leader).AppendAsync(Entry(1));
            await leader.CommitAsync(index);
            CopyDirectory(_live.File("raft"), _crashImage.File("raft"));
        }

        await using var restarted = new WriteAheadLog(Options(_crashImage), StateMachineOver(_crashImage));
        await restarted.InitializeAsync();
        Assert.Equal(1, restarted.LastEntryIndex);
        using var entries = await restarted.ReadAsync(1, 1);
        Assert.True(entries[0].TryGetPayload(out var payload));
        Assert.Equal("entry 1", Encoding.UTF8.GetString(payload.ToArray()));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.GetDirectories(from))
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }
}
