using System.Buffers.Binary;

namespace KvAspire.Node.Storage;

/// <summary>
/// The bodies of the entries a move between positions commits (<see cref="LogRecordFormat"/>'s layout):
/// a claim, a giver's fence, a part of a copy, the drop of the keys outside the claim. Each starts with a
/// marker that is no operation's kind, so a release before moves reads it as an entry with nothing to apply.
/// </summary>
public static partial class LogRecordFormat
{
    private const byte ClaimMarker = 0xC1;
    private const int ClaimSize = 1 + 8 + 1 + 1 + 1 + 8 + 8;
    private const byte FenceMarker = 0xC3;
    private const byte InstallMarker = 0xD1;
    private const int InstallHeaderSize = 1 + 8 + 1;
    private const byte DropUnclaimedMarker = 0xD2;

    /// <summary>
    /// The body of an entry that says which range the position owns (<see cref="CommittedEntry.Claim"/>).
    /// Its marker is no operation's kind, so a release before claims reads it as an entry with nothing to
    /// apply; the leader proposes it only once every member reads it as it is meant.
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeClaim(OwnedRange claim) => EncodeClaim(ClaimMarker, claim, []);

    /// <summary>
    /// The body of a giver's fence (<see cref="CommittedEntry.Fence"/>): its smaller range, and the move it
    /// gives the rest in, which the position holds until its release.
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeFence(OwnedRange claim, MovePlan move) => EncodeClaim(FenceMarker, claim, move.Encode());

    private static ReadOnlyMemory<byte> EncodeClaim(byte marker, OwnedRange claim, ReadOnlySpan<byte> move)
    {
        var body = new byte[BodyHeaderSize + ClaimSize + move.Length];
        var at = body.AsSpan(BodyHeaderSize);
        at[0] = marker;
        move.CopyTo(at[ClaimSize..]);
        BinaryPrimitives.WriteInt64LittleEndian(at[1..], claim.Epoch);
        at[9] = (byte)claim.IdBits;
        at[10] = claim.PlacementTags ? (byte)1 : (byte)0;
        at[11] = claim.AfterId.HasValue ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(at[12..], claim.AfterId ?? 0);
        BinaryPrimitives.WriteUInt64LittleEndian(at[20..], claim.UpToId);
        return body;
    }

    /// <summary>
    /// The body of an entry carrying a part of a range another position gives this one
    /// (<see cref="CommittedEntry.Install"/>): <paramref name="part"/> is the part as a snapshot, as the giver
    /// sent it (<see cref="SnapshotFormat.Encode"/>).
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeInstall(long epoch, bool first, ReadOnlySpan<byte> part)
    {
        var body = new byte[BodyHeaderSize + InstallHeaderSize + part.Length];
        var at = body.AsSpan(BodyHeaderSize);
        at[0] = InstallMarker;
        BinaryPrimitives.WriteInt64LittleEndian(at[1..], epoch);
        at[9] = first ? (byte)1 : (byte)0;
        part.CopyTo(at[InstallHeaderSize..]);
        return body;
    }

    /// <summary>The body of an entry that removes the keys outside the position's claim (<see cref="CommittedEntry.DropsUnclaimed"/>).</summary>
    public static ReadOnlyMemory<byte> EncodeDropUnclaimed()
    {
        var body = new byte[BodyHeaderSize + 1];
        body[BodyHeaderSize] = DropUnclaimedMarker;
        return body;
    }

    private static RangeInstall? DecodeInstall(ReadOnlySpan<byte> at)
    {
        var epoch = BinaryPrimitives.ReadInt64LittleEndian(at[1..]);
        if (epoch < 1 || at[9] > 1)
            return null;
        try
        {
            return new RangeInstall(epoch, at[9] == 1, SnapshotFormat.Decode(at[InstallHeaderSize..]));
        }
        catch (SnapshotCorruptException)
        {
            return null;
        }
    }

    private static CommittedEntry? DecodeFence(ReadOnlySpan<byte> at)
    {
        if (DecodeClaim(at) is not { } claim)
            return null;
        try
        {
            return new CommittedEntry(0, 0, 0, [], Claim: claim, Fence: MovePlan.Decode(at[ClaimSize..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static OwnedRange? DecodeClaim(ReadOnlySpan<byte> at)
    {
        var (epoch, idBits) = (BinaryPrimitives.ReadInt64LittleEndian(at[1..]), at[9]);
        if (epoch < 1 || idBits is < 1 or > 64 || at[10] > 1 || at[11] > 1)
            return null;
        return new OwnedRange(epoch, idBits, at[10] == 1, at[11] == 1 ? BinaryPrimitives.ReadUInt64LittleEndian(at[12..]) : null,
            BinaryPrimitives.ReadUInt64LittleEndian(at[20..]));
    }

    /// <summary>Whether <paramref name="body"/> (after the body header; not empty) is one of a move's entries.</summary>
    private static bool IsMoveEntry(ReadOnlySpan<byte> body) => body[0] switch
    {
        ClaimMarker => body.Length == ClaimSize,
        FenceMarker => body.Length > ClaimSize,
        DropUnclaimedMarker => body.Length == 1,
        InstallMarker => body.Length > InstallHeaderSize,
        _ => false,
    };

    /// <summary>A move's entry (<see cref="IsMoveEntry"/>); null when its fields are inconsistent.</summary>
    private static CommittedEntry? DecodeMoveEntry(ReadOnlySpan<byte> body) => body[0] switch
    {
        ClaimMarker => DecodeClaim(body) is { } claim ? new CommittedEntry(0, 0, 0, [], Claim: claim) : null,
        FenceMarker => DecodeFence(body),
        DropUnclaimedMarker => new CommittedEntry(0, 0, 0, [], DropsUnclaimed: true),
        _ => DecodeInstall(body) is { } install ? new CommittedEntry(0, 0, 0, [], Install: install) : null,
    };
}
