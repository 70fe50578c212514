using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// The on-disk layout of <c>log.X</c>, the durable copy of the Raft log, all integers little-endian:
/// <code>
/// file:      | magic "KVLG" (4) | format version u16 | reserved u16 | record | record | ...
/// record:    | payload length u32 | length check u32 (= ~length) | CRC-32 of payload u32 | payload |
/// payload:   | kind u8 = 1 (entry) | index i64 | term i64 | flags u8 | command id i32 | body |
///         or | kind u8 = 2 (commit) | index i64 |
/// flags:     bit 0 = a membership entry, bit 1 = command id present
/// body:      the entry as Raft carries it: empty for Raft's own entries, else a batch of writes:
///            | 0 i64 | 0 i64 | timestamp unix ms i64 | operation | operation | ... (at least one)
///         or the position's revision baseline: | 0 i64 | 0 i64 | 0 i64 | 0xB0 u8 |
///         or the range the position owns: | 0 i64 | 0 i64 | 0 i64 | 0xC1 u8 | epoch i64 | id bits u8 |
///            | placement tags u8 | has after u8 | after id u64 | up to id u64 |
///         or a giver's fence: | 0 i64 | 0 i64 | 0 i64 | 0xC3 u8 | the claim's fields as above | the move
///            (<see cref="MovePlan.Encode"/>) |
///         or a part of a range another position gives: | 0 i64 | 0 i64 | 0 i64 | 0xD1 u8 | epoch i64 |
///            | first u8 | the part as a snapshot (<see cref="SnapshotFormat"/>) |
///         or the drop of the keys outside the claim: | 0 i64 | 0 i64 | 0 i64 | 0xD2 u8 |
/// operation: | kind u8 | flags u8 | expected version i64 | client sequence u64 | client id length u16 |
///            | client id UTF-8 | key length u16 | key UTF-8 | value length u32 | value | (flag bit 2) lease i64 |
///            (kind 5, a transaction: its first key, and as value the transaction, <see cref="TransactionFormat"/>;
///            kinds 7 to 10, lease operations, <see cref="OperationKind"/>)
/// flags:     bit 0 = expected version present, bit 1 = request id present, bit 2 = lease present (logs
///            written before leases have no such bit, and read as they are)
/// </code>
/// An entry record is one Raft entry, written when the entry is appended, before the member acknowledges
/// it: a later record for the same index replaces it and every entry after it (Raft cut the log there).
/// A commit record says every entry up to its index is committed; it rides with the next entries, so it
/// may lag. The writes in an entry are one checksum, so a crash keeps all or none of them. The length check
/// tells a damaged length from a record cut short by a crash; the checksum tells a damaged or
/// half-written payload from a complete one. Versions 1 and 2 held committed entries only, and Raft's own
/// log lived beside them in <c>raft/</c>: they are not read (see <see cref="EarlierReleaseException"/>).
/// </summary>
public static partial class LogRecordFormat
{
    public const ushort FormatVersion = 3;
    public const int FileHeaderSize = 8;
    public const int RecordHeaderSize = 12;

    /// <summary>Anything longer is not a record we could have written: the length itself is damaged.</summary>
    public const int MaxPayloadSize = 64 * 1024 * 1024;

    public const int CommitRecordSize = RecordHeaderSize + 1 + 8;

    private static ReadOnlySpan<byte> Magic => "KVLG"u8;
    private const byte EntryKind = 1;
    private const byte CommitKind = 2;
    private const int EntryRecordHeaderSize = 1 + 8 + 8 + 1 + 4;
    private const byte IsMembership = 1;
    private const byte HasCommandId = 2;
    private const int BodyHeaderSize = 8 + 8 + 8;
    private const int FixedOperationSize = 1 + 1 + 8 + 8 + 2 + 2 + 4;
    private const byte HasExpectedVersion = 1;
    private const byte HasRequestId = 2;
    private const byte HasLease = 4;
    private const byte BaselineMarker = 0xB0;

    public static void WriteFileHeader(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
    }

    /// <summary>Checks a file header; returns null when valid, else why not.</summary>
    public static string? CheckFileHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < FileHeaderSize || !header[..4].SequenceEqual(Magic))
            return "not a KvAspire log file (bad magic)";
        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        return version == FormatVersion ? null : $"log format version {version} is not supported (expected {FormatVersion})";
    }

    /// <summary>The format version a file header names, or null when it is not a log file's header.</summary>
    public static ushort? VersionOf(ReadOnlySpan<byte> header) =>
        header.Length >= FileHeaderSize && header[..4].SequenceEqual(Magic) ? BinaryPrimitives.ReadUInt16LittleEndian(header[4..]) : null;

    public static int EntryRecordSize(RaftEntry entry) => RecordHeaderSize + EntryRecordHeaderSize + entry.Body.Length;

    /// <summary>Writes one whole entry record (header and payload) into <paramref name="destination"/>; returns its size.</summary>
    public static int WriteEntryRecord(RaftEntry entry, Span<byte> destination)
    {
        var payload = destination[RecordHeaderSize..];
        payload[0] = EntryKind;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], entry.Index);
        BinaryPrimitives.WriteInt64LittleEndian(payload[9..], entry.Term);
        payload[17] = (byte)((entry.IsMembership ? IsMembership : 0) | (entry.CommandId.HasValue ? HasCommandId : 0));
        BinaryPrimitives.WriteInt32LittleEndian(payload[18..], entry.CommandId ?? 0);
        entry.Body.Span.CopyTo(payload[EntryRecordHeaderSize..]);
        return Seal(destination, EntryRecordHeaderSize + entry.Body.Length);
    }

    /// <summary>Writes a commit record: every entry up to <paramref name="index"/> is committed.</summary>
    public static int WriteCommitRecord(long index, Span<byte> destination)
    {
        var payload = destination[RecordHeaderSize..];
        payload[0] = CommitKind;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], index);
        return Seal(destination, 9);
    }

    private static int Seal(Span<byte> record, int payloadLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(record, payloadLength);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], ~payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], Crc32.HashToUInt32(record.Slice(RecordHeaderSize, payloadLength)));
        return RecordHeaderSize + payloadLength;
    }

    /// <summary>
    /// Decodes a record's payload whose checksum matched: an entry, or the index of a commit record; false
    /// when its fields are inconsistent.
    /// </summary>
    public static bool TryDecodeRecord(ReadOnlySpan<byte> payload, out RaftEntry? entry, out long committed)
    {
        entry = null;
        committed = 0;
        if (payload.Length == 9 && payload[0] == CommitKind)
        {
            committed = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
            return committed > 0;
        }
        if (payload.Length < EntryRecordHeaderSize || payload[0] != EntryKind || (payload[17] & ~(IsMembership | HasCommandId)) != 0)
            return false;
        var index = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
        var term = BinaryPrimitives.ReadInt64LittleEndian(payload[9..]);
        if (index <= 0 || term < 0)
            return false;
        var flags = payload[17];
        entry = new RaftEntry(index, term, payload[EntryRecordHeaderSize..].ToArray(),
            (flags & HasCommandId) != 0 ? BinaryPrimitives.ReadInt32LittleEndian(payload[18..]) : null,
            (flags & IsMembership) != 0);
        return true;
    }

    public static int OperationSize(KvOperation operation) =>
        FixedOperationSize
        + Encoding.UTF8.GetByteCount(operation.RequestId?.ClientId ?? "")
        + Encoding.UTF8.GetByteCount(operation.Key)
        + (operation.Txn is { } txn ? TransactionFormat.Size(txn) : operation.Value.Length)
        + (operation.Lease != 0 ? 8 : 0);

    /// <summary>
    /// Writes not yet placed in the order, as a Raft entry's body (index and term 0: the entry's own index
    /// and term are its place once committed).
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeOperations(long timestampUnixMs, IReadOnlyList<KvOperation> operations)
    {
        var size = BodyHeaderSize;
        foreach (var operation in operations)
            size += OperationSize(operation);
        var body = new byte[size];
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(16), timestampUnixMs);
        var offset = BodyHeaderSize;
        foreach (var operation in operations)
            offset += WriteOperation(operation, body.AsSpan(offset));
        return body;
    }

    /// <summary>
    /// The body of the entry from which a position counts revisions (<see cref="CommittedEntry.StartsRevisions"/>).
    /// A release before revisions reads it as an entry with nothing to apply; the leader proposes it only once
    /// every member reads it as it is meant.
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeRevisionBaseline()
    {
        var body = new byte[BodyHeaderSize + 1];
        body[BodyHeaderSize] = BaselineMarker;
        return body;
    }

    /// <summary>Reads a record header; false when its length is damaged or impossible.</summary>
    public static bool TryReadRecordHeader(ReadOnlySpan<byte> header, out int payloadLength, out uint checksum)
    {
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header);
        checksum = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        return BinaryPrimitives.ReadInt32LittleEndian(header[4..]) == ~payloadLength
               && payloadLength is > 0 and <= MaxPayloadSize;
    }

    public static bool ChecksumMatches(ReadOnlySpan<byte> payload, uint checksum) => Crc32.HashToUInt32(payload) == checksum;

    /// <summary>Decodes an entry's body of writes (or the revision baseline); null when it holds none or its fields are inconsistent.</summary>
    public static CommittedEntry? DecodePayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == BodyHeaderSize + 1 && payload[BodyHeaderSize] == BaselineMarker)
            return new CommittedEntry(0, 0, 0, [], StartsRevisions: true);
        if (payload.Length > BodyHeaderSize && IsMoveEntry(payload[BodyHeaderSize..]))
            return DecodeMoveEntry(payload[BodyHeaderSize..]);
        if (payload.Length < BodyHeaderSize + FixedOperationSize)
            return null;
        var index = BinaryPrimitives.ReadInt64LittleEndian(payload);
        var term = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
        var timestamp = BinaryPrimitives.ReadInt64LittleEndian(payload[16..]);
        var operations = new List<KvOperation>(1);
        var offset = BodyHeaderSize;
        while (offset < payload.Length)
        {
            if (DecodeOperation(payload, ref offset) is not { } operation)
                return null;
            operations.Add(operation);
        }
        return new CommittedEntry(index, term, timestamp, operations);
    }

    private static int WriteOperation(KvOperation operation, Span<byte> destination)
    {
        var offset = 0;
        destination[offset++] = (byte)operation.Kind;
        destination[offset++] = (byte)((operation.ExpectedVersion.HasValue ? HasExpectedVersion : 0) |
                                       (operation.RequestId.HasValue ? HasRequestId : 0) |
                                       (operation.Lease != 0 ? HasLease : 0));
        BinaryPrimitives.WriteInt64LittleEndian(destination[offset..], operation.ExpectedVersion ?? 0); offset += 8;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], operation.RequestId?.Sequence ?? 0); offset += 8;
        offset += WriteString(operation.RequestId?.ClientId ?? "", destination[offset..]);
        offset += WriteString(operation.Key, destination[offset..]);
        if (operation.Txn is { } txn)
        {
            var written = TransactionFormat.Write(txn, destination[(offset + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], written);
            offset += 4 + written;
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], operation.Value.Length); offset += 4;
            operation.Value.Span.CopyTo(destination[offset..]);
            offset += operation.Value.Length;
        }
        if (operation.Lease == 0)
            return offset;
        BinaryPrimitives.WriteInt64LittleEndian(destination[offset..], operation.Lease);
        return offset + 8;
    }

    private static KvOperation? DecodeOperation(ReadOnlySpan<byte> payload, ref int offset)
    {
        if (payload.Length - offset < FixedOperationSize)
            return null;
        var kind = (OperationKind)payload[offset++];
        var flags = payload[offset++];
        var expected = BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]); offset += 8;
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(payload[offset..]); offset += 8;
        if (kind is not (OperationKind.Create or OperationKind.Update or OperationKind.Delete or OperationKind.Txn or OperationKind.LeaseGrant
            or OperationKind.LeaseKeepAlive or OperationKind.LeaseRevoke or OperationKind.LeaseCheckpoint) || (flags & ~(HasExpectedVersion | HasRequestId | HasLease)) != 0)
            return null;
        if (!TryReadString(payload, ref offset, out var clientId) || !TryReadString(payload, ref offset, out var key))
            return null;
        if (payload.Length - offset < 4)
            return null;
        var valueLength = BinaryPrimitives.ReadInt32LittleEndian(payload[offset..]); offset += 4;
        if (valueLength < 0 || valueLength > payload.Length - offset)
            return null;
        var value = payload.Slice(offset, valueLength);
        offset += valueLength;
        Transaction? txn = null;
        if (kind == OperationKind.Txn && (txn = TransactionFormat.Read(value)) is null)
            return null;
        var lease = 0L;
        if ((flags & HasLease) != 0)
        {
            if (payload.Length - offset < 8)
                return null;
            lease = BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]);
            offset += 8;
        }
        return new KvOperation(kind, key, txn is null ? value.ToArray() : default,
            (flags & HasExpectedVersion) != 0 ? expected : null,
            (flags & HasRequestId) != 0 ? new ClientRequestId(clientId, sequence) : null,
            txn, Lease: lease);
    }

    internal static int WriteString(string text, Span<byte> destination)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, checked((ushort)length));
        return 2 + length;
    }

    internal static bool TryReadString(ReadOnlySpan<byte> payload, ref int offset, out string text)
    {
        text = "";
        if (payload.Length - offset < 2)
            return false;
        var length = BinaryPrimitives.ReadUInt16LittleEndian(payload[offset..]);
        offset += 2;
        if (payload.Length - offset < length)
            return false;
        text = Encoding.UTF8.GetString(payload.Slice(offset, length));
        offset += length;
        return true;
    }
}
