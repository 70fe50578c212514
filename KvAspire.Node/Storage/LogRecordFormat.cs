using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace KvAspire.Node.Storage;

/// <summary>
/// The on-disk layout of <c>log.X</c>, all integers little-endian:
/// <code>
/// file:      | magic "KVLG" (4) | format version u16 | reserved u16 | record | record | ...
/// record:    | payload length u32 | length check u32 (= ~length) | CRC-32 of payload u32 | payload |
/// payload:   | index i64 | term i64 | timestamp unix ms i64 | operation | operation | ... (at least one)
/// operation: | kind u8 | flags u8 | expected version i64 | client sequence u64 | client id length u16 |
///            | client id UTF-8 | key length u16 | key UTF-8 | value length u32 | value |
/// flags:     bit 0 = expected version present, bit 1 = request id present
/// </code>
/// A record is one committed entry: the writes in it are one checksum, so a crash keeps all or none of
/// them. Version 1 wrote exactly one operation per record, which version 2 reads the same way (a Raft
/// entry written by version 1 decodes too). The length check tells a damaged length from a record cut
/// short by a crash; the checksum tells a damaged or half-written payload from a complete one.
/// </summary>
public static class LogRecordFormat
{
    public const ushort FormatVersion = 2;
    public const int FileHeaderSize = 8;
    public const int RecordHeaderSize = 12;

    /// <summary>Anything longer is not a record we could have written: the length itself is damaged.</summary>
    public const int MaxPayloadSize = 64 * 1024 * 1024;

    private static ReadOnlySpan<byte> Magic => "KVLG"u8;
    private const int EntryHeaderSize = 8 + 8 + 8;
    private const int FixedOperationSize = 1 + 1 + 8 + 8 + 2 + 2 + 4;
    private const byte HasExpectedVersion = 1;
    private const byte HasRequestId = 2;

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
        return version is 1 or FormatVersion ? null : $"log format version {version} is not supported (expected 1 to {FormatVersion})";
    }

    public static int RecordSize(CommittedEntry entry) => RecordHeaderSize + PayloadSize(entry.Operations);

    /// <summary>Writes one whole record (header and payload) into <paramref name="destination"/>; returns its size.</summary>
    public static int WriteRecord(CommittedEntry entry, Span<byte> destination)
    {
        var payload = destination[RecordHeaderSize..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, entry.Index);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], entry.Term);
        BinaryPrimitives.WriteInt64LittleEndian(payload[16..], entry.TimestampUnixMs);
        var offset = EntryHeaderSize;
        foreach (var operation in entry.Operations)
            offset += WriteOperation(operation, payload[offset..]);

        BinaryPrimitives.WriteInt32LittleEndian(destination, offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], ~offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Crc32.HashToUInt32(payload[..offset]));
        return RecordHeaderSize + offset;
    }

    /// <summary>The bytes <paramref name="operations"/> take in a payload, its entry header included.</summary>
    private static int PayloadSize(IReadOnlyList<KvOperation> operations)
    {
        var size = EntryHeaderSize;
        foreach (var operation in operations)
            size += OperationSize(operation);
        return size;
    }

    public static int OperationSize(KvOperation operation) =>
        FixedOperationSize
        + Encoding.UTF8.GetByteCount(operation.RequestId?.ClientId ?? "")
        + Encoding.UTF8.GetByteCount(operation.Key)
        + operation.Value.Length;

    /// <summary>
    /// Writes not yet placed in the order, as a Raft entry's body: a record's payload with index and term 0
    /// (the entry's own index and term replace them when it is committed).
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeOperations(long timestampUnixMs, IReadOnlyList<KvOperation> operations)
    {
        var entry = new CommittedEntry(0, 0, timestampUnixMs, operations);
        var record = new byte[RecordSize(entry)];
        WriteRecord(entry, record);
        return record.AsMemory(RecordHeaderSize);
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

    /// <summary>Decodes a payload whose checksum matched; null when its fields are inconsistent.</summary>
    public static CommittedEntry? DecodePayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < EntryHeaderSize + FixedOperationSize)
            return null;
        var index = BinaryPrimitives.ReadInt64LittleEndian(payload);
        var term = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
        var timestamp = BinaryPrimitives.ReadInt64LittleEndian(payload[16..]);
        var operations = new List<KvOperation>(1);
        var offset = EntryHeaderSize;
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
                                       (operation.RequestId.HasValue ? HasRequestId : 0));
        BinaryPrimitives.WriteInt64LittleEndian(destination[offset..], operation.ExpectedVersion ?? 0); offset += 8;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], operation.RequestId?.Sequence ?? 0); offset += 8;
        offset += WriteString(operation.RequestId?.ClientId ?? "", destination[offset..]);
        offset += WriteString(operation.Key, destination[offset..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], operation.Value.Length); offset += 4;
        operation.Value.Span.CopyTo(destination[offset..]);
        return offset + operation.Value.Length;
    }

    private static KvOperation? DecodeOperation(ReadOnlySpan<byte> payload, ref int offset)
    {
        if (payload.Length - offset < FixedOperationSize)
            return null;
        var kind = (OperationKind)payload[offset++];
        var flags = payload[offset++];
        var expected = BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]); offset += 8;
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(payload[offset..]); offset += 8;
        if (kind is not (OperationKind.Create or OperationKind.Update or OperationKind.Delete))
            return null;
        if (!TryReadString(payload, ref offset, out var clientId) || !TryReadString(payload, ref offset, out var key))
            return null;
        if (payload.Length - offset < 4)
            return null;
        var valueLength = BinaryPrimitives.ReadInt32LittleEndian(payload[offset..]); offset += 4;
        if (valueLength < 0 || valueLength > payload.Length - offset)
            return null;
        var value = payload.Slice(offset, valueLength).ToArray();
        offset += valueLength;
        return new KvOperation(kind, key, value,
            (flags & HasExpectedVersion) != 0 ? expected : null,
            (flags & HasRequestId) != 0 ? new ClientRequestId(clientId, sequence) : null);
    }

    private static int WriteString(string text, Span<byte> destination)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, checked((ushort)length));
        return 2 + length;
    }

    private static bool TryReadString(ReadOnlySpan<byte> payload, ref int offset, out string text)
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
