namespace KvAspire.Operations;

public enum KeyEventKind
{
    Put = 0,
    Delete = 1,
}

/// <summary>
/// One change a position applied to one key, as a watcher sees it: the key as it is after the change (for a
/// delete: its key, no value, version 0, and the delete's revision as <see cref="ListedKey.ModRevision"/>),
/// and as it was before (null when it did not exist). <see cref="Revision"/> is the change's: the events of
/// one transaction share it.
/// </summary>
public sealed record KeyEvent(KeyEventKind Kind, ListedKey Kv, ListedKey? Previous)
{
    public long Revision => Kv.ModRevision;

    public string Key => Kv.Key;

    /// <summary>What the event holds in memory, near enough to bound a history by it.</summary>
    public long Bytes => 2 * Key.Length + Kv.Value.Length + (Previous?.Value.Length ?? 0) + 160;
}

/// <summary>
/// What a watch asks for: one key, or every key under a prefix (all keys when it is empty); with each change's
/// previous value when <see cref="PreviousValues"/>.
/// </summary>
public sealed record WatchQuery(string Key, bool Prefix, bool PreviousValues)
{
    public bool Matches(string key) => Prefix ? key.StartsWith(Key, StringComparison.Ordinal) : key == Key;
}

/// <summary>
/// A position's events of one or more whole revisions in revision order, or, with none, a progress notice:
/// either way the watcher now has every matching event of <see cref="Position"/> up to <see cref="Revision"/>.
/// <see cref="AnsweredRequest"/>: the watcher's request for progress this is the position's answer to (and to
/// every earlier one; its revision is at or past every change acknowledged before the request), null when none.
/// <see cref="Handover"/>: watched keys changed hands at <see cref="Revision"/>, which holds no events.
/// </summary>
public sealed record WatchBatch(int Position, long Revision, IReadOnlyList<KeyEvent> Events, long? AnsweredRequest = null, WatchHandover? Handover = null);

/// <summary>
/// Keys changing hands in a move of the ring to <see cref="Epoch"/>: from <see cref="Giver"/>, whose events
/// of them end at <see cref="GiverRevision"/>, to <see cref="Taker"/>. A giver's fence says it as the giver
/// (its revision then is <see cref="GiverRevision"/>); the taker's claim says it again from the taker's side.
/// A giver that took its keys back (a move given up) is both.
/// </summary>
public sealed record WatchHandover(long Epoch, int Giver, int Taker, long GiverRevision)
{
    /// <summary>Whether <paramref name="position"/> gives the keys away here (a giver taking its keys back does not).</summary>
    public bool Leaves(int position) => Giver == position && Taker != position;

    /// <summary>Whether <paramref name="position"/> takes the keys from another here.</summary>
    public bool Arrives(int position) => Taker == position && Giver != position;
}

/// <summary>
/// Where a position's events for a watcher start: after revision <see cref="After"/> (after the source's
/// own revision when null), or, when <see cref="ArrivalEpoch"/> is set, at the handover by which the position
/// took keys at that epoch (from now when it has not taken them yet): what a watch following its keys to a
/// taker asks for, since the taker's revisions are not the giver's.
/// </summary>
public sealed record WatchStart(long? After, long ArrivalEpoch = 0)
{
    public static WatchStart Arrival(long epoch) => new(null, epoch);
}
