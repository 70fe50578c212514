namespace KvAspire.Node.Storage;

/// <summary>
/// A value as the map stores it, with the revisions of the change that created the key and of its latest
/// change (0 when made before its position counted revisions), and the lease that holds it (0: none).
/// </summary>
public readonly record struct StoredValue(ReadOnlyMemory<byte> Value, long Version, long TimestampUnixMs, long CreateRevision = 0, long ModRevision = 0,
    long Lease = 0);

/// <summary>
/// A lease as the map stores it: its TTL, how long it had left at its last record (grant, keep-alive or
/// checkpoint), how often it was kept alive, its keys (in key order, so that every replica deletes them
/// in one order), and the key it was placed with at its grant, which it lives and moves with (null for a
/// lease granted before leases moved: it lives with its first key).
/// </summary>
public sealed record StoredLease(long TtlMs, long RemainingMs, long Renewals, System.Collections.Immutable.ImmutableSortedSet<string> Keys,
    string? PlacedWith = null)
{
    public static readonly System.Collections.Immutable.ImmutableSortedSet<string> NoKeys = System.Collections.Immutable.ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    public static StoredLease Granted(long ttlMs, string placedWith) => new(ttlMs, ttlMs, 0, NoKeys, placedWith);

    /// <summary>The key the lease lives with: the one it was placed with, else its first; null when it has neither (it stays where it is).</summary>
    public string? Home => PlacedWith ?? (Keys.IsEmpty ? null : Keys.Min);
}

/// <summary>
/// The map's whole state at one point of the order: after entry <see cref="LastIndex"/>, before the next.
/// <see cref="Revision"/> is the position's revision there (0 before it counted revisions). Read-only; while
/// the map is frozen it shares the map's storage. <see cref="Leases"/> hold no keys here: a restore finds
/// them in the values. <see cref="LeasesGranted"/> numbers the next grant. <see cref="Claim"/>: the range
/// the position owns, null before its first claim entry; <see cref="Move"/>: the move a giver is fenced for
/// until its release; <see cref="CopyEpoch"/>: the epoch of the last copy a taker installed a part of,
/// <see cref="CopyRevision"/> the giver's revision it was read at and <see cref="CopyMove"/> the move it came in (a copy's
/// part names the giver's move as its <see cref="Move"/>). <see cref="GivenLeases"/>: the leases the position
/// gave away in moves, each with the key it lives with, so that a call naming only its id is sent on.
/// </summary>
public sealed record MapSnapshot(
    long LastIndex,
    long LastTerm,
    long LastTimestampUnixMs,
    long Revision,
    IReadOnlyDictionary<string, StoredValue> Values,
    IReadOnlyDictionary<string, ClientSession> Clients,
    IReadOnlyDictionary<long, StoredLease>? Leases = null,
    long LeasesGranted = 0,
    OwnedRange? Claim = null,
    MovePlan? Move = null,
    long CopyEpoch = 0,
    long CopyRevision = 0,
    MovePlan? CopyMove = null,
    IReadOnlyDictionary<long, string>? GivenLeases = null);
