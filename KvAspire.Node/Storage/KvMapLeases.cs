using System.Collections.Immutable;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// The map's leases: which keys each holds (kept as keys are set and removed), and the lease operations.
/// No clock here: whether a lease is due is its leader's call, committed as a revoke. A lease lives with
/// the key it was placed with (<see cref="StoredLease.Home"/>): the position serves it while its claim holds
/// that key, and it moves with that key's range, all its keys with it (docs/architecture.md, "Moving a range").
/// </summary>
public sealed partial class KvMap
{
    private ImmutableDictionary<long, string> _givenLeases = ImmutableDictionary<long, string>.Empty;

    /// <summary>The leases this position serves, whose deadlines its leader keeps: not those fenced for a move, nor a copy's not yet claimed.</summary>
    public IEnumerable<KeyValuePair<long, StoredLease>> ServedLeases => _leases.Where(lease => Serves(Claim, lease.Value));

    /// <summary>Whether a position holding <paramref name="claim"/> serves <paramref name="lease"/>: any before its first claim; one that lives with no key stays.</summary>
    private static bool Serves(OwnedRange? claim, StoredLease lease) => claim is null || lease.Home is not { } home || claim.Holds(home);

    /// <summary>
    /// The answer for a lease's own call when this position does not serve the lease, null when it does
    /// (<paramref name="lease"/> is it then): NotOwner naming the key it lives with when it moved (or is
    /// moving, or was copied here and is not claimed yet), so that the node routes the call by that key;
    /// LeaseNotFound when it is not here at all.
    /// </summary>
    private OperationResult? NotServed(long id, out StoredLease lease)
    {
        if (_leases.TryGetValue(id, out lease!))
            return Serves(Claim, lease) ? null : LivesElsewhere(id, lease.Home!);
        return _givenLeases.TryGetValue(id, out var home) ? LivesElsewhere(id, home) : LeaseNotFound(id);
    }

    private OperationResult LivesElsewhere(long id, string home) =>
        new(ResultCode.NotOwner, Revision: Revision, Lease: new LeaseInfo(id, 0, 0, 0, [], home),
            Detail: $"lease {id} lives with key '{home}', outside this position's range {Claim}");

    /// <summary>
    /// A lease <paramref name="moving"/> would split: one that lives with a key on one side of its edges and
    /// holds a key on the other (null when none does). A lease moves whole, so such a range does not move.
    /// </summary>
    private (long Lease, string Home, string Key)? SplitBy(OwnedRange moving)
    {
        foreach (var (id, lease) in _leases)
        {
            if (lease.Home is not { } home)
                continue;
            var goes = moving.Holds(home);
            if (lease.Keys.FirstOrDefault(key => moving.Holds(key) != goes) is { } other)
                return (id, home, other);
        }
        return null;
    }

    /// <summary>
    /// Follows the leases across a change of the claim from <paramref name="before"/>: those no longer served
    /// here leave the deadlines (a giver's, at its fence), those served from now join them with the time
    /// left at their last record (a taker's, at its claim; a giver's, at a roll-back), as after a restart.
    /// </summary>
    private void ChangeServedLeases(OwnedRange? before)
    {
        foreach (var (id, lease) in _leases)
        {
            var (was, now) = (Serves(before, lease), Serves(Claim, lease));
            if (was && !now)
                _leaseChanges.Add(new LeaseChange(LeaseChangeKind.Removed, id, 0, lease.Renewals));
            else if (now && !was)
                _leaseChanges.Add(new LeaseChange(LeaseChangeKind.Arrived, id, lease.RemainingMs, lease.Renewals, lease.TtlMs));
        }
    }

    /// <summary>Takes a lease of a copy (the leases come before the keys they hold); one this position gave away earlier is back.</summary>
    private void InstallLease(long id, StoredLease lease)
    {
        if (!_leases.ContainsKey(id))
            _leases = _leases.Add(id, lease with { Keys = StoredLease.NoKeys });
        _givenLeases = _givenLeases.Remove(id);
    }

    /// <summary>Drops the leases the position no longer serves, once their keys are gone; given away (a giver's release) they are remembered, to send their calls on.</summary>
    private void DropUnserved(bool given)
    {
        foreach (var (id, lease) in _leases.Where(lease => !Serves(Claim, lease.Value)).ToList())
        {
            _leases = _leases.Remove(id);
            if (given)
                _givenLeases = _givenLeases.SetItem(id, lease.Home!);
        }
    }

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
            var granted = StoredLease.Granted(ttl, command.Key);
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
        if (NotServed(command.Lease, out var lease) is { } elsewhere)
            return elsewhere;
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
                return ReadLease(command);
        }
    }

    /// <summary>A lease as its last record left it, with its keys.</summary>
    public OperationResult ReadLease(KvOperation read) =>
        NotOwned(read.Key) ?? NotServed(read.Lease, out var held) ?? LeaseResult(read.Lease, held, Revision, withKeys: true);

    /// <summary>A write attaching its key to a lease: null when this position serves the lease, else why not (a lease holds keys of its own position).</summary>
    private OperationResult? NotAttachable(KvOperation write) =>
        write.Lease == 0 || _leases.TryGetValue(write.Lease, out var lease) && Serves(Claim, lease) ? null
            : LeaseNotFound(write.Lease) with
            {
                Detail = $"lease {write.Lease} is not on the position of key '{write.Key}': it expired, was revoked, never was, or lives on another " +
                         "position (a lease holds keys of its own position: give the key the {tag} of the key the lease was placed with)",
            };

    /// <summary>A lease operation's answer; only a read lists the keys (a write's answer is kept in its client's session).</summary>
    private static OperationResult LeaseResult(long id, StoredLease lease, long revision, bool withKeys = false) =>
        new(ResultCode.Ok, Revision: revision, Lease: new LeaseInfo(id, lease.TtlMs, lease.RemainingMs, lease.Renewals, withKeys ? [.. lease.Keys] : []));

    private OperationResult LeaseNotFound(long lease) =>
        new(ResultCode.LeaseNotFound, Detail: $"lease {lease} not found: it expired, was revoked, or never was", Revision: Revision);
}
