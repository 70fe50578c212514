using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace KvAspire.Node.Storage;

/// <summary>
/// The on-disk layout of <c>log.X</c>, all integers little-endian:
/// <code>
/// file:    | magic "KVLG" (4) | format version u16 | reserved u16 | record | record | ...
/// record:  | payload length u32 | length check u32 (= ~length) | CRC-32 of payload u32 | payload |
/// payload: | index i64 | term i64 | timestamp unix ms i64 | kind u8 | flags u8 |
///          | expected version i64 | client sequence u64 | client id length u16 | client id UTF-8 |
///          | key length u16 | key UTF-8 | value length u32 | value |
/// flags:   bit 0 = expected version present, bit 1 = request id present
/// </code>
/// The length check tells a damaged length from a record cut short by a crash; the checksum tells a
/// damaged or half-written payload from a complete one.
/// </summary>
public static class LogRecordFormat
{
    public const ushort FormatVersion = 1;
    public const int FileHeaderSize = 8;
    public const int RecordHeaderSize = 12;

    /// <summary>Anything longer is not a record we could have written: the length itself is damaged.</summary>
    public const int MaxPayloadSize = 64 * 1024 * 1024;

    private static ReadOnlySpan<byte> Magic => "KVLG"u8;
    private const int FixedPayloadSize = 8 + 8 + 8 + 1 + 1 + 8 + 8 + 2 + 2 + 4;
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
        return version == FormatVersion ? null : $"log format version {version} is not supported (expected {FormatVersion})";
    }

    public static int RecordSize(CommittedWrite entry)
    {
        var command = entry.Operation;
        return RecordHeaderSize + FixedPayloadSize
            + Encoding.UTF8.GetByteCount(command.RequestId?.ClientId ?? "")
            + Encoding.UTF8.GetByteCount(command.Key)
            + command.Value.Length;
    }

    /// <summary>Writes one whole record (header and payload) into <paramref name="destination"/>; returns its size.</summary>
    public static int WriteRecord(CommittedWrite entry, Span<byte> destination)
    {
        var command = entry.Operation;
        var payload = destination[RecordHeaderSize..];
        var offset = 0;
        BinaryPrimitives.WriteInt64LittleEndian(payload[offset..], entry.Index); offset += 8;
        BinaryPrimitives.WriteInt64LittleEndian(payload[offset..], entry.Term); offset += 8;
        BinaryPrimitives.WriteInt64LittleEndian(payload[offset..], entry.TimestampUnixMs); offset += 8;
        payload[offset++] = (byte)command.Kind;
        payload[offset++] = (byte)((command.ExpectedVersion.HasValue ? HasExpectedVersion : 0) |
                                   (command.RequestId.HasValue ? HasRequestId : 0));
        BinaryPrimitives.WriteInt64LittleEndian(payload[offset..], command.ExpectedVersion ?? 0); offset += 8;
        BinaryPrimitives.WriteUInt64LittleEndian(payload[offset..], command.RequestId?.Sequence ?? 0); offset += 8;
        offset += WriteString(command.RequestId?.ClientId ?? "", payload[offset..]);
        offset += WriteString(command.Key, payload[offset..]);
        BinaryPrimitives.WriteInt32LittleEndian(payload[offset..], command.Value.Length); offset += 4;
        command.Value.Span.CopyTo(payload[offset..]); offset += command.Value.Length;

        BinaryPrimitives.WriteInt32LittleEndian(destination, offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], ~offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Crc32.HashToUInt32(payload[..offset]));
        return RecordHeaderSize + offset;
    }

    /// <summary>
    /// A write not yet placed in the order, as a Raft entry's body: a record's payload with index and term 0
    /// (the entry's own index and term replace them when it is committed).
    /// </summary>
    public static ReadOnlyMemory<byte> EncodeCommand(long timestampUnixMs, KvOperation command)
    {
        var entry = new CommittedWrite(0, 0, timestampUnixMs, command);
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
    public static CommittedWrite? DecodePayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FixedPayloadSize)
            return null;
        var offset = 0;
        var index = BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]); offset += 8;
        var term = BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]); offset += 8;
        var timestamp = BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]); offset += 8;
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
        if (valueLength < 0 || valueLength != payload.Length - offset)
            return null;
        var value = payload.Slice(offset, valueLength).ToArray();

        var command = new KvOperation(kind, key, value,
            (flags & HasExpectedVersion) != 0 ? expected : null,
            (flags & HasRequestId) != 0 ? new ClientRequestId(clientId, sequence) : null);
        return new CommittedWrite(index, term, timestamp, command);
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
