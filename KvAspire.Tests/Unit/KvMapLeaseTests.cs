using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The map's leases: grants, keep-alives, revokes and expiries, checkpoints, and the keys each lease holds.</summary>
[Trait("Category", "Unit")]
public sealed class KvMapLeaseTests : AppliedMap
{
    private long Grant(long ttlMs, int position = 2) =>
        Lease(new KvOperation(OperationKind.LeaseGrant, "{t}", LeaseIds.EncodeTtl(ttlMs), Lease: LeaseIds.Space(position))).Lease!.Id;

    private OperationResult Lease(KvOperation operation) => Apply(operation);

    private OperationResult WithLease(OperationKind kind, string key, long lease) =>
        Lease(new KvOperation(kind, key, "v"u8.ToArray(), Lease: lease));

    [Fact]
    public void A_revoked_lease_deletes_every_key_it_holds_at_one_revision_in_key_order_and_no_other()
    {
        Baseline();
        var lease = Grant(5000);
        WithLease(OperationKind.Create, "{t}b", lease);
        WithLease(OperationKind.Create, "{t}a", lease);
        Apply(OperationKind.Create, "{t}c", "mine");

        var revoked = Lease(new KvOperation(OperationKind.LeaseRevoke, "", Lease: lease));
        var changes = Map.LeaseChanges.ToList();

        Assert.Equal(LeaseIds.Space(2) + 1, lease);
        Assert.Equal(2, LeaseIds.Position(lease));
        Assert.Equal((ResultCode.Ok, 5L), (revoked.Code, revoked.Revision));
        Assert.Equal(["{t}a", "{t}b"], Map.Changes.Select(change => change.Kv.Key));
        Assert.All(Map.Changes, change => Assert.Equal((KeyEventKind.Delete, 5L), (change.Kind, change.Kv.ModRevision)));
        Assert.Equal(ResultCode.NotFound, Map.Read("{t}a").Code);
        Assert.Equal("mine", Encoding.UTF8.GetString(Map.Read("{t}c").Value.Span));
        Assert.Empty(Map.Leases);
        Assert.Equal(ResultCode.LeaseNotFound, Lease(new KvOperation(OperationKind.LeaseKeepAlive, "", Lease: lease)).Code);
        Assert.Equal([new LeaseChange(LeaseChangeKind.Removed, lease, 0, 0)], changes);
    }

    [Fact]
    public void An_expiry_decided_before_a_keep_alive_committed_after_it_changes_nothing()
    {
        var lease = Grant(5000);
        WithLease(OperationKind.Create, "{t}a", lease);
        var kept = Lease(new KvOperation(OperationKind.LeaseKeepAlive, "", Lease: lease));

        var stale = Lease(new KvOperation(OperationKind.LeaseRevoke, "", default, ExpectedVersion: 0, Lease: lease));
        var staleCheckpoint = Lease(new KvOperation(OperationKind.LeaseCheckpoint, "", LeaseIds.EncodeCheckpoints([new LeaseCheckpoint(lease, 0, 10)])));

        Assert.Equal((1L, 5000L), (kept.Lease!.Renewals, kept.Lease.RemainingMs));
        Assert.Equal(ResultCode.VersionMismatch, stale.Code);
        Assert.Equal(ResultCode.Ok, Map.Read("{t}a").Code);
        Assert.Empty(Map.LeaseChanges);
        Assert.Equal(5000, Map.Leases[lease].RemainingMs);
        Assert.Equal(ResultCode.Ok, staleCheckpoint.Code);

        Lease(new KvOperation(OperationKind.LeaseCheckpoint, "", LeaseIds.EncodeCheckpoints([new LeaseCheckpoint(lease, 1, 1200)])));
        var expired = Lease(new KvOperation(OperationKind.LeaseRevoke, "", default, ExpectedVersion: 1, Lease: lease));

        Assert.Equal([new LeaseChange(LeaseChangeKind.Removed, lease, 0, 1)], Map.LeaseChanges);
        Assert.Equal(ResultCode.Ok, expired.Code);
        Assert.Equal(ResultCode.NotFound, Map.Read("{t}a").Code);
    }

    [Fact]
    public void A_key_moves_between_leases_and_an_update_without_one_detaches_it()
    {
        var first = Grant(5000);
        var second = Grant(5000);
        WithLease(OperationKind.Create, "{t}a", first);
        WithLease(OperationKind.Create, "{t}b", first);
        WithLease(OperationKind.Update, "{t}a", second);
        Apply(OperationKind.Update, "{t}b", "free");
        var unknown = WithLease(OperationKind.Create, "{t}z", LeaseIds.Space(2) + 99);

        Assert.Empty(Map.Leases[first].Keys);
        Assert.Equal(["{t}a"], Map.Leases[second].Keys);
        Assert.Equal(["{t}a"], Map.ReadLease(new KvOperation(OperationKind.LeaseRead, "", Lease: second)).Lease!.Keys);
        Assert.Equal(ResultCode.LeaseNotFound, unknown.Code);
        Assert.Equal(ResultCode.NotFound, Map.Read("{t}z").Code);

        Lease(new KvOperation(OperationKind.LeaseRevoke, "", Lease: first));
        Assert.Equal(ResultCode.Ok, Map.Read("{t}b").Code);
    }

    [Fact]
    public void Grants_are_numbered_in_order_and_a_retried_grant_answers_its_first_lease()
    {
        var id = new ClientRequestId("c", 1);
        var grant = new KvOperation(OperationKind.LeaseGrant, "{t}", LeaseIds.EncodeTtl(3000), null, id, Lease: LeaseIds.Space(1));

        var first = Lease(grant);
        var retried = Lease(grant);
        var next = Grant(100, position: 1);

        Assert.Equal(LeaseIds.Space(1) + 1, first.Lease!.Id);
        Assert.Equal(first.Lease.Id, retried.Lease!.Id);
        Assert.Equal(LeaseIds.Space(1) + 2, next);
        Assert.Equal(2, Map.Leases.Count);
    }
}
