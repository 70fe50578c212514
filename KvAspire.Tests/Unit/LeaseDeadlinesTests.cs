using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class LeaseDeadlinesTests : IDisposable
{
    private readonly NodeDataDirectory _data = new();
    private readonly FakeTimeProvider _clock = new();
    private readonly LeaseDeadlines _deadlines;

    public LeaseDeadlinesTests() => _deadlines = new LeaseDeadlines(_data.Recover(), _clock);

    public void Dispose() => _data.Dispose();

    private void Advance(int milliseconds) => _clock.Advance(TimeSpan.FromMilliseconds(milliseconds));

    [Fact]
    public void A_lease_is_due_its_TTL_after_its_grant_or_keep_alive_was_applied_and_not_a_moment_before()
    {
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Renewed, 1, 3000, 0)]);
        Advance(2999);
        var early = _deadlines.Due();
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Renewed, 1, 3000, 1)]);
        Advance(2999);
        var renewed = _deadlines.Due();
        Advance(1);

        Assert.Empty(early);
        Assert.Empty(renewed);
        Assert.Equal([(1L, 1L)], _deadlines.Due());
    }

    [Fact]
    public void A_checkpoint_can_bring_a_deadline_nearer_but_never_push_it_later()
    {
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Renewed, 1, 10_000, 0), new LeaseChange(LeaseChangeKind.Renewed, 2, 1000, 0)]);
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Checkpointed, 1, 500, 0), new LeaseChange(LeaseChangeKind.Checkpointed, 2, 9000, 0)]);
        Advance(500);

        Assert.Equal([1L], _deadlines.Due().Select(d => d.Lease));
        Advance(500);
        Assert.Equal([1L, 2L], _deadlines.Due().Select(d => d.Lease).Order());
    }

    [Fact]
    public void A_new_leader_gives_every_lease_the_grace_of_an_election_from_now_and_shortens_none()
    {
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Renewed, 1, 1000, 0), new LeaseChange(LeaseChangeKind.Renewed, 2, 5000, 0)]);
        Advance(1500);

        _deadlines.Promote(TimeSpan.FromMilliseconds(1200));
        Advance(1199);
        var inGrace = _deadlines.Due();
        Advance(1);

        Assert.Empty(inGrace);
        Assert.Equal([1L], _deadlines.Due().Select(d => d.Lease));
        Assert.Equal(TimeSpan.FromMilliseconds(2300), _deadlines.Remaining(2));
    }

    [Fact]
    public void Checkpoints_carry_the_time_left_of_leases_not_renewed_lately_and_a_removed_lease_is_forgotten()
    {
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Renewed, 1, 10_000, 3)]);
        Advance(6000);
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Renewed, 2, 10_000, 0)]);

        var checkpoints = _deadlines.Checkpoints(TimeSpan.FromSeconds(5));
        _deadlines.Apply([new LeaseChange(LeaseChangeKind.Removed, 1, 0, 3)]);

        Assert.Equal([new LeaseCheckpoint(1, 3, 4000)], checkpoints);
        Assert.Null(_deadlines.Remaining(1));
        Assert.Equal(1, _deadlines.Count);
    }
}
