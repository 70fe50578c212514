using System.Collections.Immutable;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// The map's leases: which keys each holds (kept as keys are set and removed), and the lease operations.
/// No clock here: whether a lease is due is its leader's call, committed as a revoke.
/// </summary>
public sealed partial class KvMap
{
    /// <summary>Sets a key, moving it from the lease that held it (if any) to the one that holds it now (if any).</summary>
    private void SetValue(string key, StoredValue? before, StoredValue stored)
    {
        _values.Set(key, stored);
        if (before?.Lease is { } was && was != stored.Lease && was != 0)
            ChangeLeaseKeys(was, keys => keys.Remove(key));
        if (stored.Lease != 0 && before?.Lease != stored.Lease)
            ChangeLeaseKeys(stored.Lease, keys => keys.Add(key));
    }

    private void RemoveValue(string key, StoredValue stored)
    {
        _values.Remove(key);
        if (stored.Lease != 0)
            ChangeLeaseKeys(stored.Lease, keys => keys.Remove(key));
    }

    private void ChangeLeaseKeys(long lease, Func<ImmutableSortedSet<string>, ImmutableSortedSet<string>> change)
    {
        if (_leases.TryGetValue(lease, out var held))
            _leases = _leases.SetItem(lease, held with { Keys = change(held.Keys) });
    }

    private OperationResult ExecuteLease(KvOperation command)
    {
        if (command.Kind == OperationKind.LeaseGrant)
        {
            var ttl = LeaseIds.DecodeTtl(command.Value.Span);
            var id = command.Lease + ++LeasesGranted;
            var granted = StoredLease.Granted(ttl);
            _leases = _leases.Add(id, granted);
            _leaseChanges.Add(new LeaseChange(LeaseChangeKind.Renewed, id, ttl, 0));
            return LeaseResult(id, granted, Revision);
        }
        if (command.Kind == OperationKind.LeaseCheckpoint)
        {
            foreach (var checkpoint in LeaseIds.DecodeCheckpoints(command.Value.Span) ?? [])
            {
                if (_leases.TryGetValue(checkpoint.Lease, out var held) && held.Renewals == checkpoint.Renewals)
                {
                    _leases = _leases.SetItem(checkpoint.Lease, held with { RemainingMs = checkpoint.RemainingMs });
                    _leaseChanges.Add(new LeaseChange(LeaseChangeKind.Checkpointed, checkpoint.Lease, checkpoint.RemainingMs, held.Renewals));
                }
            }
            return new OperationResult(ResultCode.Ok, Revision: Revision);
        }
        if (!_leases.TryGetValue(command.Lease, out var lease))
            return LeaseNotFound(command.Lease);
        switch (command.Kind)
        {
            case OperationKind.LeaseKeepAlive:
                var renewed = lease with { RemainingMs = lease.TtlMs, Renewals = lease.Renewals + 1 };
                _leases = _leases.SetItem(command.Lease, renewed);
                _leaseChanges.Add(new LeaseChange(LeaseChangeKind.Renewed, command.Lease, renewed.TtlMs, renewed.Renewals));
                return LeaseResult(command.Lease, renewed, Revision);
            case OperationKind.LeaseRevoke when command.ExpectedVersion is { } renewals && renewals != lease.Renewals:
                return new OperationResult(ResultCode.VersionMismatch, lease.Renewals, Revision: Revision,
                    Detail: $"lease {command.Lease} was kept alive since its expiry was decided");
            case OperationKind.LeaseRevoke:
                // Every key it holds goes at one revision, in key order.
                var revision = lease.Keys.IsEmpty ? Revision : NextRevision();
                foreach (var key in lease.Keys)
                {
                    var held = _values.TryGetValue(key, out var value) ? value : default;
                    _values.Remove(key);
                    Record(key, held, null, revision);
                }
                _leases = _leases.Remove(command.Lease);
                _leaseChanges.Add(new LeaseChange(LeaseChangeKind.Removed, command.Lease, 0, lease.Renewals));
                return LeaseResult(command.Lease, lease, revision);
            default:
                return ReadLease(command.Lease);
        }
    }

    /// <summary>A lease as its last record left it, with its keys.</summary>
    public OperationResult ReadLease(long lease) =>
        _leases.TryGetValue(lease, out var held) ? LeaseResult(lease, held, Revision, withKeys: true) : LeaseNotFound(lease);

    /// <summary>A lease operation's answer; only a read lists the keys (a write's answer is kept in its client's session).</summary>
    private static OperationResult LeaseResult(long id, StoredLease lease, long revision, bool withKeys = false) =>
        new(ResultCode.Ok, Revision: revision, Lease: new LeaseInfo(id, lease.TtlMs, lease.RemainingMs, lease.Renewals, withKeys ? [.. lease.Keys] : []));

    private OperationResult LeaseNotFound(long lease) =>
        new(ResultCode.LeaseNotFound, Detail: $"lease {lease} not found: it expired, was revoked, or never was", Revision: Revision);
}
