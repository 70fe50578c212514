using System.Collections.Immutable;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// A map's side of a move between positions (docs/architecture.md, "Moving a range"): the giver's claim
/// shrinks (its fence: the moving keys are no longer served, and the move is held until it ends), the taker
/// installs the giver's copy, then claims the range, and the giver drops the keys it no longer claims.
/// </summary>
public sealed partial class KvMap
{
    /// <summary>
    /// The move this position gives a range in, from its fence to its release (or a roll-back): durable in
    /// the log and snapshots, so that whichever replica leads drives it to its end.
    /// </summary>
    public MovePlan? Move { get; private set; }

    /// <summary>Why the last fence applied here was not taken (null when it was): for the node that proposed it.</summary>
    public string? FenceRefused { get; private set; }

    /// <summary>The epoch of the last copy this position installed a part of.</summary>
    public long CopyEpoch { get; private set; }

    /// <summary>The giver's revision that copy was read at (the highest of its parts): the giver's events of the range end at or before it.</summary>
    public long CopyRevision { get; private set; }

    /// <summary>The move that copy was given in (null when its giver ran a release that did not send it).</summary>
    public MovePlan? CopyMove { get; private set; }

    /// <summary>The change of the keys the position holds that the last <see cref="Apply(CommittedEntry)"/> made, if any: what watchers follow.</summary>
    public RangeHandover? Handover { get; private set; }

    /// <summary>
    /// A fence is taken only when it moves the claim to a newer epoch, the position gives no other range,
    /// and no lease would be split (one living with a key on one side and holding a key on the other: a lease
    /// moves whole, with the key it lives with): decided at apply, so every replica takes or refuses it alike.
    /// The leases of the range leave with it (no call on them is served from the fence on). Any other claim replaces one of an older epoch (a leader's proposal that
    /// a newer one overtook) and, at the move's epoch or later, ends the move; at the held claim's own epoch
    /// it is taken only as the held move's roll-back: another range at one epoch is another change's (two
    /// changes of the ring asked at once), and taking it would give a range two owners (a taker's claim
    /// over its own fence) or none (a second taker's claim over the first's).
    /// </summary>
    private void TakeClaim(OwnedRange claim, MovePlan? fence)
    {
        if (fence is not null)
        {
            FenceRefused = Claim is not { } held ? "the position has no claim yet"
                : Move is { } other ? $"the position gives {other.Moving} in the move to epoch {other.After.Epoch} already"
                : claim.Epoch <= held.Epoch ? $"the position holds {held}, not older than the fence's epoch {claim.Epoch}"
                : SplitBy(fence.Moving) is var (lease, home, key)
                    ? $"lease {lease} lives with key '{home}' and holds key '{key}' on the other side of the move's edge: a lease moves whole, " +
                      "so the range moves once the lease has ended or the key has left it"
                : null;
            if (FenceRefused is null)
            {
                var was = Claim;
                (Claim, Move) = (claim, fence);
                ChangeServedLeases(was);
                HandOver(fence.Moving, fence, giverRevision: null);
            }
            return;
        }
        var before = Claim;
        if (before is not null && (claim.Epoch < before.Epoch || claim.Epoch == before.Epoch && claim != before && claim != Move?.GiverRollback))
            return;
        Claim = claim;
        ChangeServedLeases(before);
        var changed = before is not null && claim != before;
        if (Move is { } move && claim.Epoch >= move.After.Epoch)
        {
            Move = null;
            if (changed && claim == move.GiverRollback)
                HandOver(move.Moving, move with { Taker = move.Giver }, giverRevision: null);
        }
        else if (changed && CopyMove is { } copy && claim.Epoch == CopyEpoch && claim == copy.TakerClaim)
            HandOver(copy.Moving, copy, CopyRevision);
    }

    /// <summary>
    /// The keys of <paramref name="range"/> change hands: a revision of its own, so a watcher's place in the
    /// history says whether it has passed it. The giver's events of the range end at <paramref name="giverRevision"/>
    /// (null: here, now).
    /// </summary>
    private void HandOver(OwnedRange range, MovePlan move, long? giverRevision)
    {
        var revision = NextRevision();
        if (revision > 0)
            Handover = new RangeHandover(revision, range, new WatchHandover(move.After.Epoch, move.Giver, move.Taker, giverRevision ?? revision));
    }

    /// <summary>The giver's release: the keys it gave are dropped, with their leases, and its move ends.</summary>
    private void Release()
    {
        DropUnclaimed(given: true);
        Move = null;
    }
    /// <summary>
    /// Installs one part of a range given to this position for the move to <see cref="RangeInstall.Epoch"/>:
    /// its leases and keys as they were (outside the claim until the claim entry that follows the copy), its sessions
    /// merged into this position's, its revision if higher. A part of a move this position already claimed
    /// (a copy tried again after its claim) changes nothing: those keys may have changed here since. A
    /// position with no claim takes none: it would serve the copy with every key it routes. The first part
    /// of a copy for another epoch than the last drops what that one left; of the same epoch, it does not:
    /// every copy of one move holds the same keys (the giver's range frozen at its fence), so two drivers
    /// of one move (a leader deposed, still copying, and the next) cannot undo each other's parts.
    /// </summary>
    private void Install(RangeInstall install)
    {
        if (Claim is not { } claim || claim.Epoch >= install.Epoch)
            return;
        if (install.Epoch != CopyEpoch)
        {
            if (install.First)
                DropUnclaimed(given: false);
            CopyRevision = 0;
        }
        CopyEpoch = install.Epoch;
        CopyRevision = Math.Max(CopyRevision, install.Part.Revision);
        CopyMove = install.Part.Move ?? CopyMove;
        foreach (var (id, lease) in install.Part.Leases ?? ImmutableDictionary<long, StoredLease>.Empty)
            InstallLease(id, lease);
        foreach (var (key, stored) in install.Part.Values)
            SetValue(key, _values.TryGetValue(key, out var before) ? before : null, stored);
        foreach (var (id, session) in install.Part.Clients)
            _clients.Set(id, _clients.TryGetValue(id, out var mine) ? mine.Merge(session) : session.Copy());
        Revision = Math.Max(Revision, install.Part.Revision);
    }

    /// <summary>
    /// Removes the keys outside the claim, and the leases not served: a giver's once the taker serves them
    /// (<paramref name="given"/>), or those of a copy that never became a claim.
    /// </summary>
    private void DropUnclaimed(bool given)
    {
        if (Claim is not { } claim)
            return;
        foreach (var (key, stored) in _values.Current().Where(pair => !claim.Holds(pair.Key)).ToList())
            RemoveValue(key, stored);
        DropUnserved(given);
    }
}
