using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Node.Peers;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using NSubstitute.Extensions;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The leader's write proposer over a stand-in for Raft whose commits the test releases one at a time:
/// writes that wait while an entry is being committed go together into the next, in arrival order and
/// within the entry's bounds, with the term the leadership was won in; an entry whose leadership ends
/// fails every write in it as not led.
/// </summary>
[Trait("Category", "Unit")]
public sealed class WriteProposerTests : IAsyncLifetime
{
    private const long LeaderTerm = 3;
    private readonly RequestPathParts _node = new();
    private readonly NodeDataDirectory _data = new();
    private readonly IRaftCluster _raft;
    private readonly CancellationTokenSource _leading = new();
    private readonly List<(BinaryLogEntry Entry, TaskCompletionSource Commit)> _proposed = [];
    private WriteAheadLog? _log;

    public WriteProposerTests()
    {
        _raft = _node.Raft;
        _raft.LeadershipToken.Returns(_leading.Token);
        _raft.ReplicateAsync(Arg.Any<BinaryLogEntry>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var commit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_proposed)
                _proposed.Add((call.Arg<BinaryLogEntry>(), commit));
            return new ValueTask(commit.Task.WaitAsync(call.Arg<CancellationToken>()));
        });
    }

    /// <summary>The leader's own log, whose last entry (its first as leader) carries the term it leads in.</summary>
    public async Task InitializeAsync()
    {
        var stateMachine = new CommittedOrder(_node.Queues, _data.Recover(), new FailStop(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance)),
            NullLogger<CommittedOrder>.Instance);
        _log = new WriteAheadLog(new WriteAheadLog.Options { Location = _data.File("raft") }, stateMachine);
        await _log.InitializeAsync();
        await _log.AppendAsync(new BinaryLogEntry { Content = ReadOnlyMemory<byte>.Empty, Term = LeaderTerm });
        _raft.ReturnsForAll<IPersistentState>(_log);
    }

    public async Task DisposeAsync()
    {
        if (_log is not null)
            await _log.DisposeAsync();
        _leading.Dispose();
        _data.Dispose();
        _node.Dispose();
    }

    private static PendingRequest Write(string key) =>
        new(new KvOperation(OperationKind.Create, key, "v"u8.ToArray(), null, new ClientRequestId("c", (ulong)key.Length)), default);

    private async Task<(BinaryLogEntry Entry, TaskCompletionSource Commit)> ProposedAsync(int number)
    {
        await Wait.UntilAsync(() => { lock (_proposed) return _proposed.Count >= number; }, TimeSpan.FromSeconds(10), $"entry {number} to be proposed");
        lock (_proposed)
            return _proposed[number - 1];
    }

    private static IEnumerable<string> KeysOf(BinaryLogEntry entry) =>
        LogRecordFormat.DecodePayload(entry.Content.Span)!.Operations.Select(o => o.Key);

    [Fact]
    public async Task Writes_that_arrive_while_an_entry_commits_go_together_into_the_next_in_arrival_order()
    {
        var proposer = new WriteProposer(_raft, new LeaseReadiness(_raft, _node.Group, _node.Options, MemberTls.None), _node.Options, _node.Clock);
        var first = Write("a");
        var proposals = new List<Task> { proposer.ProposeAsync(first) };
        var (lone, commitLone) = await ProposedAsync(1);
        Assert.Equal(["a"], KeysOf(lone));

        var waiting = new[] { Write("b"), Write("cc"), Write("ddd") };
        proposals.AddRange(waiting.Select(proposer.ProposeAsync));
        Assert.False(proposals[1].IsCompleted);
        commitLone.SetResult();
        var (together, commitTogether) = await ProposedAsync(2);
        commitTogether.SetResult();

        await Task.WhenAll(proposals).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["b", "cc", "ddd"], KeysOf(together));
        Assert.Equal(waiting, together.Context);
        Assert.Equal([LeaderTerm, LeaderTerm], new[] { lone.Term, together.Term });
    }

    [Fact]
    public async Task An_entry_carries_at_most_the_configured_number_of_writes()
    {
        var proposer = new WriteProposer(_raft, new LeaseReadiness(_raft, _node.Group, _node.Options, MemberTls.None), _node.Options with { EntryWrites = 2 }, _node.Clock);
        var proposals = new List<Task> { proposer.ProposeAsync(Write("a")) };
        var (_, commitFirst) = await ProposedAsync(1);
        proposals.AddRange(new[] { Write("b"), Write("cc"), Write("ddd") }.Select(proposer.ProposeAsync));
        commitFirst.SetResult();
        var (second, commitSecond) = await ProposedAsync(2);
        commitSecond.SetResult();
        var (third, commitThird) = await ProposedAsync(3);
        commitThird.SetResult();

        await Task.WhenAll(proposals).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["b", "cc"], KeysOf(second));
        Assert.Equal(["ddd"], KeysOf(third));
    }

    [Fact]
    public async Task When_the_leadership_ends_before_the_entry_commits_each_of_its_writes_fails_as_unavailable()
    {
        var proposer = new WriteProposer(_raft, new LeaseReadiness(_raft, _node.Group, _node.Options, MemberTls.None), _node.Options, _node.Clock);
        var first = proposer.ProposeAsync(Write("a"));
        await ProposedAsync(1);
        var second = proposer.ProposeAsync(Write("b"));

        await _leading.CancelAsync();

        var lost = await Assert.ThrowsAsync<RequestFailedException>(() => first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((FailureKind.Unavailable, "this node stopped leading before the entry committed"), (lost.Kind, lost.Message));
        // The next entry finds no leadership to carry and is not proposed.
        var none = await Assert.ThrowsAsync<RequestFailedException>(() => second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(none.IsWorthRetrying);
        Assert.Single(_proposed);
    }

    [Fact]
    public async Task Lease_calls_and_writes_to_a_lease_wait_until_every_member_keeps_leases_and_other_writes_do_not()
    {
        var proposer = new WriteProposer(_raft, new LeaseReadiness(_raft, _node.Group, _node.Options, MemberTls.None), _node.Options, _node.Clock);
        var grant = new PendingRequest(new KvOperation(OperationKind.LeaseGrant, "{t}", LeaseIds.EncodeTtl(5000)), default) { Route = (0, 0) };
        var leased = new PendingRequest(new KvOperation(OperationKind.Create, "{t}a", "v"u8.ToArray(), Lease: 1), default) { Route = (0, 0) };

        var refusals = new[]
        {
            await Assert.ThrowsAsync<RequestFailedException>(() => proposer.ProposeAsync(grant)),
            await Assert.ThrowsAsync<RequestFailedException>(() => proposer.ProposeAsync(leased)),
        };
        var plain = proposer.ProposeAsync(Write("a"));
        var (entry, _) = await ProposedAsync(1);

        Assert.All(refusals, refused => Assert.Equal((FailureKind.Unavailable, true), (refused.Kind, refused.Message.Contains("takes no lease calls yet"))));
        Assert.Equal(["a"], KeysOf(entry));
        Assert.False(plain.IsFaulted);
    }
}
