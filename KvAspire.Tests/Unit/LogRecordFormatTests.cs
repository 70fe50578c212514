using KvAspire.Node.Storage;
using KvAspire.Operations;

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
        new CommittedEntry(6, 3, 11, [
            new KvOperation(OperationKind.LeaseGrant, "{svc}", LeaseIds.EncodeTtl(5000), null, new ClientRequestId("c", 2), Lease: LeaseIds.Space(3)),
            new KvOperation(OperationKind.Create, "{svc}a", "1"u8.ToArray(), null, null, Lease: LeaseIds.Space(3) + 1),
            new KvOperation(OperationKind.LeaseKeepAlive, "", Lease: LeaseIds.Space(3) + 1),
            new KvOperation(OperationKind.LeaseCheckpoint, "", LeaseIds.EncodeCheckpoints([new LeaseCheckpoint(LeaseIds.Space(3) + 1, 1, 4200)])),
            new KvOperation(OperationKind.LeaseRevoke, "", default, 1, Lease: LeaseIds.Space(3) + 1),
        ]),
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void An_entry_record_decodes_to_the_entry_it_encodes_and_its_body_to_the_writes(CommittedEntry writes)
    {
        var entry = new RaftEntry(writes.Index, writes.Term, LogRecordFormat.EncodeOperations(writes.TimestampUnixMs, writes.Operations), 7, IsMembership: true);
        var record = Record(entry);

        Assert.True(LogRecordFormat.TryReadRecordHeader(record, out var length, out var checksum));
        var payload = record.AsSpan(LogRecordFormat.RecordHeaderSize);
        Assert.Equal(payload.Length, length);
        Assert.True(LogRecordFormat.ChecksumMatches(payload, checksum));
        Assert.True(LogRecordFormat.TryDecodeRecord(payload, out var decoded, out _));

        Assert.Equal((entry.Index, entry.Term, entry.CommandId, entry.IsMembership), (decoded!.Index, decoded.Term, decoded.CommandId, decoded.IsMembership));
        Assert.Equal(entry.Body.ToArray(), decoded.Body.ToArray());
        Assert.Equal(Describe(writes with { Index = 0, Term = 0 }), Describe(LogRecordFormat.DecodePayload(decoded.Body.Span)!));
    }

    [Fact]
    public void Raft_own_entries_and_commit_records_decode()
    {
        Assert.True(LogRecordFormat.TryDecodeRecord(Record(new RaftEntry(9, 3, ReadOnlyMemory<byte>.Empty)).AsSpan(LogRecordFormat.RecordHeaderSize), out var own, out _));
        Assert.Equal((9L, 3L, 0, (int?)null, false), (own!.Index, own.Term, own.Body.Length, own.CommandId, own.IsMembership));

        var commit = new byte[LogRecordFormat.CommitRecordSize];
        Assert.Equal(commit.Length, LogRecordFormat.WriteCommitRecord(41, commit));
        Assert.True(LogRecordFormat.TryDecodeRecord(commit.AsSpan(LogRecordFormat.RecordHeaderSize), out var none, out var committed));
        Assert.Null(none);
        Assert.Equal(41, committed);
    }

    [Fact]
    public void The_revision_baseline_decodes_as_an_entry_that_starts_revisions_and_writes_nothing()
    {
        var body = LogRecordFormat.EncodeRevisionBaseline();
        Assert.True(LogRecordFormat.TryDecodeRecord(Record(new RaftEntry(12, 4, body)).AsSpan(LogRecordFormat.RecordHeaderSize), out var entry, out _));

        var baseline = LogRecordFormat.DecodePayload(entry!.Body.Span);

        Assert.NotNull(baseline);
        Assert.True(baseline.StartsRevisions);
        Assert.Empty(baseline.Operations);
        Assert.Equal(0, baseline.TimestampUnixMs);
        Assert.Null(LogRecordFormat.DecodePayload([.. body.Span[..^1], 0xB1]));
    }

    [Fact]
    public void A_transaction_is_logged_whole_and_a_damaged_one_is_not_decoded()
    {
        var txn = new Transaction(
            [new TransactionCompare("{t}a", CompareTarget.Value, CompareResult.NotEqual, Value: "x"u8.ToArray()), new TransactionCompare("{t}b", CompareTarget.ModRevision, CompareResult.Less, 42)],
            [new TransactionOp(TransactionOpKind.Put, "{t}a", new byte[3000]), new TransactionOp(TransactionOpKind.Delete, "{t}b")],
            [new TransactionOp(TransactionOpKind.Read, "ключ {t}")]);
        var operation = new KvOperation(OperationKind.Txn, "{t}a", RequestId: new ClientRequestId("c", 9), Txn: txn);
        var body = LogRecordFormat.EncodeOperations(5, [operation]);

        var decoded = LogRecordFormat.DecodePayload(body.Span)!.Operations.Single();

        Assert.Equal(body.Length, LogRecordFormat.EncodeOperations(5, [decoded]).Length);
        Assert.Equal((OperationKind.Txn, "{t}a", operation.RequestId), (decoded.Kind, decoded.Key, decoded.RequestId));
        Assert.Equal(txn.Compares.Select(c => (c.Key, c.Target, c.Result, c.Number, Convert.ToHexString(c.Value.Span))),
            decoded.Txn!.Compares.Select(c => (c.Key, c.Target, c.Result, c.Number, Convert.ToHexString(c.Value.Span))));
        Assert.Equal(txn.Success.Concat(txn.Failure).Select(o => (o.Kind, o.Key, o.Value.Length)),
            decoded.Txn.Success.Concat(decoded.Txn.Failure).Select(o => (o.Kind, o.Key, o.Value.Length)));
        Assert.Equal([1, 0], new[] { decoded.Txn.Success.Count - 1, decoded.Txn.Failure.Count - 1 });
        // The last operation is | kind | key length u16 | key | value length u32 |: give it a kind that is none.
        var damaged = body.ToArray();
        damaged[body.Length - (1 + 2 + System.Text.Encoding.UTF8.GetByteCount("ключ {t}") + 4)] = 9;
        Assert.Null(LogRecordFormat.DecodePayload(damaged));
    }

    private static byte[] Record(RaftEntry entry)
    {
        var record = new byte[LogRecordFormat.EntryRecordSize(entry)];
        Assert.Equal(record.Length, LogRecordFormat.WriteEntryRecord(entry, record));
        return record;
    }

    /// <summary>Every field of an entry, operations in order, as text that two equal entries share.</summary>
    public static string Describe(CommittedEntry entry) =>
        $"{entry.Index} term {entry.Term} at {entry.TimestampUnixMs}: " + string.Join(", ", entry.Operations.Select(o =>
            $"{o.Kind} '{o.Key}' expected {o.ExpectedVersion} id {o.RequestId} value {Convert.ToHexString(o.Value.Span)} lease {o.Lease}"));

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, false)]
    public void Only_logs_of_format_3_are_read(ushort version, bool accepted)
    {
        // Formats 1 and 2 held committed writes only, beside DotNext's own log: Recovery refuses such a directory.
        var header = new byte[LogRecordFormat.FileHeaderSize];
        LogRecordFormat.WriteFileHeader(header);
        BitConverter.TryWriteBytes(header.AsSpan(4), version);
        Assert.Equal(accepted, LogRecordFormat.CheckFileHeader(header) is null);
        Assert.Equal(version, LogRecordFormat.VersionOf(header));
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_the_payload_fails_the_checksum()
    {
        var record = Record(new RaftEntry(1, 0, LogRecordFormat.EncodeOperations(1, [new KvOperation(OperationKind.Create, "key", "value"u8.ToArray())])));
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
        var record = Record(new RaftEntry(1, 0, LogRecordFormat.EncodeOperations(1, [new KvOperation(OperationKind.Create, "key", "value"u8.ToArray())])));

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
