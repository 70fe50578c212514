namespace KvAspire.Node.Storage;

/// <summary>
/// A value as the map stores it, with the revisions of the change that created the key and of its latest
/// change (0 when made before its position counted revisions).
/// </summary>
public readonly record struct StoredValue(ReadOnlyMemory<byte> Value, long Version, long TimestampUnixMs, long CreateRevision = 0, long ModRevision = 0);

/// <summary>
/// The map's whole state at one point of the order: after entry <see cref="LastIndex"/>, before the next.
/// <see cref="Revision"/> is the position's revision there (0 before it counted revisions). Read-only; while
/// the map is frozen it shares the map's storage.
/// </summary>
public sealed record MapSnapshot(
    long LastIndex,
    long LastTerm,
    long LastTimestampUnixMs,
    long Revision,
    IReadOnlyDictionary<string, StoredValue> Values,
    IReadOnlyDictionary<string, ClientSession> Clients);
