namespace KvAspire.Operations;

/// <summary>
/// One page of one position's keys under <see cref="Prefix"/> (all keys when empty), in key order (ordinal,
/// by UTF-16 code unit), from just after <see cref="After"/> (from the first when null): at most
/// <see cref="Limit"/> keys and, past the first, <see cref="MaxBytes"/> of keys and values.
/// </summary>
public sealed record ListQuery(string Prefix, string? After, int Limit, bool KeysOnly, int MaxBytes);

/// <summary>A key as listed: its value (empty when only keys were asked for), version, revisions and position.</summary>
public sealed record ListedKey(string Key, ReadOnlyMemory<byte> Value, long Version, long CreateRevision, long ModRevision, int Position = 0);

/// <summary>
/// A page of keys in key order; <see cref="More"/>: keys past the last one remain (the next page starts after
/// it). <see cref="ReadAt"/>, on a page of the whole ring: each position's revision its part was read at.
/// <see cref="ClaimEpoch"/>, on a position's page: the ring epoch of the range it holds (0 before its first
/// claim), so that the node gathering the parts can tell a layout older than a part's (a move under way).
/// </summary>
public sealed record ListPage(IReadOnlyList<ListedKey> Keys, bool More, IReadOnlyDictionary<int, long>? ReadAt = null, long ClaimEpoch = 0);
