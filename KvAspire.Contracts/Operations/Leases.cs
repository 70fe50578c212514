using System.Buffers.Binary;

namespace KvAspire.Operations;

/// <summary>
/// Lease ids: the position that granted the lease in the high 32 bits, its number there (1, 2, … in grant
/// order) in the low ones, so that any node routes a call naming only the id: to that position, which sends
/// it on when the lease has moved with the key it was placed with.
/// </summary>
public static class LeaseIds
{
    /// <summary>The ids of <paramref name="position"/>'s leases are this plus their number.</summary>
    public static long Space(int position) => (long)position << 32;

    public static int Position(long lease) => (int)(lease >> 32);

    /// <summary>Whether <paramref name="lease"/> could be an id at all (a grant's number is at least 1).</summary>
    public static bool IsValid(long lease) => lease > 0 && (lease & 0xFFFF_FFFF) != 0;

    public static ReadOnlyMemory<byte> EncodeTtl(long ttlMs)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, ttlMs);
        return bytes;
    }

    /// <summary>A grant's TTL in milliseconds, or 0 when its value is not one.</summary>
    public static long DecodeTtl(ReadOnlySpan<byte> value) => value.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(value) : 0;

    public static ReadOnlyMemory<byte> EncodeCheckpoints(IReadOnlyList<LeaseCheckpoint> checkpoints)
    {
        var bytes = new byte[checkpoints.Count * 24];
        for (var i = 0; i < checkpoints.Count; i++)
        {
            var at = bytes.AsSpan(i * 24);
            BinaryPrimitives.WriteInt64LittleEndian(at, checkpoints[i].Lease);
            BinaryPrimitives.WriteInt64LittleEndian(at[8..], checkpoints[i].Renewals);
            BinaryPrimitives.WriteInt64LittleEndian(at[16..], checkpoints[i].RemainingMs);
        }
        return bytes;
    }

    /// <summary>The checkpoints a value holds, or null when it is not a list of them.</summary>
    public static IReadOnlyList<LeaseCheckpoint>? DecodeCheckpoints(ReadOnlySpan<byte> value)
    {
        if (value.Length % 24 != 0)
            return null;
        var checkpoints = new LeaseCheckpoint[value.Length / 24];
        for (var i = 0; i < checkpoints.Length; i++)
        {
            var at = value[(i * 24)..];
            checkpoints[i] = new LeaseCheckpoint(BinaryPrimitives.ReadInt64LittleEndian(at), BinaryPrimitives.ReadInt64LittleEndian(at[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(at[16..]));
        }
        return checkpoints;
    }
}

/// <summary>How long a lease had left when its leader checkpointed it, valid only if it was not kept alive since (<paramref name="Renewals"/>).</summary>
public readonly record struct LeaseCheckpoint(long Lease, long Renewals, long RemainingMs);

/// <summary>
/// A lease as the map answers it: its id, TTL, how long it had left at its last record (a grant or a keep-alive:
/// its TTL; a checkpoint: what the leader's clock said), how often it was kept alive, and its keys (for a read).
/// <paramref name="PlacedWith"/>: the key it lives with, in the answer of a position that does not serve it
/// (it moved, or is moving, with that key), so that the call is routed by that key.
/// </summary>
public sealed record LeaseInfo(long Id, long TtlMs, long RemainingMs, long Renewals, IReadOnlyList<string> Keys, string? PlacedWith = null);
