namespace KvAspire.Node.Storage;

/// <summary>A value as the map stores it.</summary>
public readonly record struct StoredValue(ReadOnlyMemory<byte> Value, long Version, long TimestampUnixMs);

/// <summary>
/// The map's whole state at one point of the order: after entry <see cref="LastIndex"/>, before the next.
/// Read-only; while the map is frozen it shares the map's storage.
/// </summary>
public sealed record MapSnapshot(
    long LastIndex,
    long LastTerm,
    long LastTimestampUnixMs,
    IReadOnlyDictionary<string, StoredValue> Values,
    IReadOnlyDictionary<string, ClientSession> Clients);
