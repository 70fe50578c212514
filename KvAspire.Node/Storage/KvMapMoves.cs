namespace KvAspire.Node.Storage;

/// <summary>
/// A map's side of a move between positions (docs/architecture.md, "Moving a range"): the giver's claim
/// shrinks (its fence: the moving keys are no longer served), the taker installs the giver's copy, then
/// claims the range, and the giver drops the keys it no longer claims.
/// </summary>
public sealed partial class KvMap
{
    /// <summary>
    /// Installs one part of a range given to this position for the move to <see cref="RangeInstall.Epoch"/>:
    /// its keys as they were (outside the claim until the claim entry that follows the copy), its sessions
    /// merged into this position's, its revision if higher. A part of a move this position already claimed
    /// (a copy tried again after its claim) changes nothing: those keys may have changed here since. A
    /// position with no claim takes none: it would serve the copy with every key it routes.
    /// </summary>
    private void Install(RangeInstall install)
    {
        if (Claim is not { } claim || claim.Epoch >= install.Epoch)
            return;
        if (install.First)
            DropUnclaimed();
        foreach (var (key, stored) in install.Part.Values)
            _values.Set(key, stored with { Lease = 0 });
        foreach (var (id, session) in install.Part.Clients)
            _clients.Set(id, _clients.TryGetValue(id, out var mine) ? mine.Merge(session) : session.Copy());
        Revision = Math.Max(Revision, install.Part.Revision);
    }

    /// <summary>Removes the keys outside the claim: a giver's once the taker serves them, or those of a copy that never became a claim.</summary>
    private void DropUnclaimed()
    {
        if (Claim is not { } claim)
            return;
        foreach (var (key, stored) in _values.Current().Where(pair => !claim.Holds(pair.Key)).ToList())
            RemoveValue(key, stored);
    }
}
