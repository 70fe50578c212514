using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The replication path in process, with fake time and a stand-in for the Raft group: what it retries
/// and for how long, what it refuses at once, and how a read on the leader gets its answer.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReplicationPathTests : IDisposable
{
    private readonly RequestPathParts _node = new();
    private readonly FakeTimeProvider _clock;
    private readonly IRaftCluster _raft;
    private readonly NodeOptions _options;
    private readonly ReplicationPath _path;

    public ReplicationPathTests() => (_clock, _raft, _options, _path) = (_node.Clock, _node.Raft, _node.Options, _node.Replication);

    public void Dispose() => _node.Dispose();

    private static PendingRequest Read(bool handedToLeader = false) => new(new KvOperation(OperationKind.Read, "k"), default, handedToLeader: handedToLeader);

    private void NoLeaderEver()
    {
        _raft.Leader.Returns((IClusterMember?)null);
        _raft.WaitForLeaderAsync(Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>())
            .Returns(_ => ValueTask.FromException<IClusterMember>(new TimeoutException("no leader")));
    }

    private void LeadingHere()
    {
        var member = Substitute.For<IClusterMember>();
        member.IsRemote.Returns(false);
        _raft.Leader.Returns(member);
    }

    private int LeaderWaits() => _raft.ReceivedCalls().Count(c => c.GetMethodInfo().Name == nameof(IRaftCluster.WaitForLeaderAsync));

    [Fact]
    public async Task Without_a_leader_a_request_is_tried_again_until_the_request_timeout_then_answered_UNAVAILABLE()
    {
        NoLeaderEver();
        var started = _clock.GetUtcNow();
        var answer = Task.Run(() => _path.ExecuteAsync(Read(), CancellationToken.None));
        await Wait.UntilAsync(() => LeaderWaits() >= 1, TimeSpan.FromSeconds(10), "the first attempt");

        // Fake time moves on in small steps (up to half the request timeout) until the request is tried again.
        await Wait.UntilAsync(() =>
        {
            if (LeaderWaits() >= 2)
                return true;
            if (_clock.GetUtcNow() - started < _options.RequestTimeout / 2)
                _clock.Advance(TimeSpan.FromMilliseconds(10));
            return false;
        }, TimeSpan.FromSeconds(10), "the request to be tried again");

        // Only the request timeout can end it, and on the fake clock that has not passed yet.
        _clock.Advance(_options.RequestTimeout - (_clock.GetUtcNow() - started) - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(2));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => answer.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(FailureKind.Unavailable, failure.Kind);
        Assert.Contains($"did not answer within {_options.RequestTimeout.TotalSeconds:F0} s", failure.Message);
    }

    [Fact]
    public async Task A_failure_nothing_expects_is_an_internal_failure_at_once_and_not_tried_again()
    {
        LeadingHere();
        _raft.ApplyReadBarrierAsync(Arg.Any<ReadBarrierType>(), Arg.Any<CancellationToken>())
            .Returns(_ => ValueTask.FromException(new InvalidOperationException("a broken invariant")));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => _path.ExecuteAsync(Read(), CancellationToken.None));

        Assert.Equal(FailureKind.Internal, failure.Kind);
        Assert.Contains("a broken invariant", failure.Message);
        await _raft.Received(1).ApplyReadBarrierAsync(Arg.Any<ReadBarrierType>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_request_handed_over_to_a_replica_that_does_not_lead_is_refused_as_unavailable_at_once()
    {
        NoLeaderEver();

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => _path.ExecuteAsync(Read(handedToLeader: true), CancellationToken.None));

        Assert.Equal(FailureKind.Unavailable, failure.Kind);
        Assert.Contains("is not the leader of position 0 (leader: none yet)", failure.Message);
        Assert.Equal(0, LeaderWaits());
    }

    [Fact]
    public async Task A_caller_that_gives_up_ends_its_request_as_cancelled_not_as_an_outage()
    {
        NoLeaderEver();
        using var giveUp = new CancellationTokenSource();
        var answer = Task.Run(() => _path.ExecuteAsync(Read(), giveUp.Token));
        await Wait.UntilAsync(() => LeaderWaits() >= 1, TimeSpan.FromSeconds(10), "the first attempt");

        giveUp.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_read_on_the_leader_passes_the_barrier_enters_F3_and_is_answered_by_the_map_naming_this_leader()
    {
        LeadingHere();
        _raft.ApplyReadBarrierAsync(Arg.Any<ReadBarrierType>(), Arg.Any<CancellationToken>()).Returns(ValueTask.CompletedTask);
        var read = Read();

        var answer = _path.ExecuteAsync(read, CancellationToken.None);
        var queued = await _node.Queues.ToApply.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(read, queued);
        Assert.False(answer.IsCompleted);
        read.Complete(new OperationResult(ResultCode.Ok, 4));

        Assert.Equal(new Answer(new OperationResult(ResultCode.Ok, 4), 0, _node.Self.GrpcEndPoint), await answer.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
