using KvAspire.Node.Storage;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class LogRecordFormatTests
{
    public static TheoryData<CommittedEntry> Entries => new()
    {
        new CommittedEntry(1, 0, 1_700_000_000_000, [new KvOperation(OperationKind.Create, "a", "1"u8.ToArray(), null, new ClientRequestId("c", 1))]),
        new CommittedEntry(long.MaxValue, 7, 0, [new KvOperation(OperationKind.Update, "ключ 🔑", new byte[70_000], 42, null)]),
        new CommittedEntry(3, 1, -5, [new KvOperation(OperationKind.Delete, new string('k', 1024), default, null, new ClientRequestId(new string('c', 256), ulong.MaxValue))]),
        new CommittedEntry(4, 0, 9, [new KvOperation(OperationKind.Update, "empty", ReadOnlyMemory<byte>.Empty, 1, new ClientRequestId("c", 0))]),
        new CommittedEntry(5, 2, 10, [
            new KvOperation(OperationKind.Create, "first", "1"u8.ToArray(), null, new ClientRequestId("c", 1)),
            new KvOperation(OperationKind.Update, "second", ReadOnlyMemory<byte>.Empty, 3, null),
            new KvOperation(OperationKind.Delete, "first", default, 1, new ClientRequestId("d", 9)),
        ]),
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void A_record_decodes_to_the_entry_it_encodes(CommittedEntry entry)
    {
        var record = new byte[LogRecordFormat.RecordSize(entry)];
        Assert.Equal(record.Length, LogRecordFormat.WriteRecord(entry, record));

        Assert.True(LogRecordFormat.TryReadRecordHeader(record, out var length, out var checksum));
        var payload = record.AsSpan(LogRecordFormat.RecordHeaderSize);
        Assert.Equal(payload.Length, length);
        Assert.True(LogRecordFormat.ChecksumMatches(payload, checksum));
        var decoded = LogRecordFormat.DecodePayload(payload);

        Assert.NotNull(decoded);
        Assert.Equal(Describe(entry), Describe(decoded));
    }

    /// <summary>Every field of an entry, operations in order, as text that two equal entries share.</summary>
    public static string Describe(CommittedEntry entry) =>
        $"{entry.Index} term {entry.Term} at {entry.TimestampUnixMs}: " + string.Join(", ", entry.Operations.Select(o =>
            $"{o.Kind} '{o.Key}' expected {o.ExpectedVersion} id {o.RequestId} value {Convert.ToHexString(o.Value.Span)}"));

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void Logs_of_format_1_one_write_a_record_are_read_and_unknown_versions_refused(ushort version, bool accepted)
    {
        // Version 1's record is version 2's with one operation: the same bytes decode the same way.
        var header = new byte[LogRecordFormat.FileHeaderSize];
        LogRecordFormat.WriteFileHeader(header);
        BitConverter.TryWriteBytes(header.AsSpan(4), version);
        Assert.Equal(accepted, LogRecordFormat.CheckFileHeader(header) is null);
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_the_payload_fails_the_checksum()
    {
        var entry = new CommittedEntry(1, 0, 1, [new KvOperation(OperationKind.Create, "key", "value"u8.ToArray())]);
        var record = new byte[LogRecordFormat.RecordSize(entry)];
        LogRecordFormat.WriteRecord(entry, record);
        LogRecordFormat.TryReadRecordHeader(record, out _, out var checksum);

        for (var i = LogRecordFormat.RecordHeaderSize; i < record.Length; i++)
        {
            var damaged = (byte[])record.Clone();
            damaged[i] ^= 0x10;
            Assert.False(LogRecordFormat.ChecksumMatches(damaged.AsSpan(LogRecordFormat.RecordHeaderSize), checksum), $"byte {i}");
        }
    }

    [Fact]
    public void A_damaged_length_is_detected_by_its_check()
    {
        var entry = new CommittedEntry(1, 0, 1, [new KvOperation(OperationKind.Create, "key", "value"u8.ToArray())]);
        var record = new byte[LogRecordFormat.RecordSize(entry)];
        LogRecordFormat.WriteRecord(entry, record);

        record[0] ^= 0x01;

        Assert.False(LogRecordFormat.TryReadRecordHeader(record, out _, out _));
    }

    [Fact]
    public void The_file_header_carries_magic_and_version()
    {
        var header = new byte[LogRecordFormat.FileHeaderSize];
        LogRecordFormat.WriteFileHeader(header);

        Assert.Null(LogRecordFormat.CheckFileHeader(header));
        header[4] = 99;
        Assert.Contains("format version 99", LogRecordFormat.CheckFileHeader(header));
        Assert.Contains("bad magic", LogRecordFormat.CheckFileHeader("NOPE\0\0\0\0"u8));
    }
}
