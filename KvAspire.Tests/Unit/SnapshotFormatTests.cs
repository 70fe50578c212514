using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class SnapshotFormatTests
{
    private static MapSnapshot Sample()
    {
        var map = new KvMap();
        var index = 0L;
        void Apply(OperationKind kind, string key, string value, ClientRequestId? id = null) =>
            map.Apply(new CommittedEntry(++index, 2, 1000 + index, [new KvOperation(kind, key, Encoding.UTF8.GetBytes(value), null, id)]));

        Apply(OperationKind.Create, "before", "0");
        map.Apply(new CommittedEntry(++index, 2, 0, [], StartsRevisions: true));
        Apply(OperationKind.Create, "a", "1");
        Apply(OperationKind.Create, "ключ 🔑", new string('v', 5000), new ClientRequestId("c1", 1));
        Apply(OperationKind.Create, "a", "dup", new ClientRequestId("c1", 2));
        Apply(OperationKind.Update, "a", "", new ClientRequestId("c2", 9));
        for (ulong s = 1; s <= ClientSession.Window + 3; s++)
            Apply(OperationKind.Create, $"many{s}", "x", new ClientRequestId("c3", s));
        var txn = new Transaction([new TransactionCompare("a", CompareTarget.Version, CompareResult.Equal, 2)],
            [new TransactionOp(TransactionOpKind.Put, "t", "1"u8.ToArray()), new TransactionOp(TransactionOpKind.Read, "a")], []);
        map.Apply(new CommittedEntry(++index, 2, 1000 + index, [new KvOperation(OperationKind.Txn, "t", RequestId: new ClientRequestId("c4", 1), Txn: txn)]));
        map.Apply(new CommittedEntry(++index, 2, 1000 + index, [
            new KvOperation(OperationKind.LeaseGrant, "{l}", LeaseIds.EncodeTtl(4000), null, new ClientRequestId("c5", 1), Lease: LeaseIds.Space(1)),
            new KvOperation(OperationKind.LeaseGrant, "{l}", LeaseIds.EncodeTtl(9000), Lease: LeaseIds.Space(1)),
            new KvOperation(OperationKind.Create, "{l}held", "h"u8.ToArray(), Lease: LeaseIds.Space(1) + 1),
            new KvOperation(OperationKind.LeaseKeepAlive, "", Lease: LeaseIds.Space(1) + 2),
            new KvOperation(OperationKind.LeaseCheckpoint, "", LeaseIds.EncodeCheckpoints([new LeaseCheckpoint(LeaseIds.Space(1) + 2, 1, 3500)])),
        ]));
        return map.Freeze();
    }

    private static string Describe(TransactionOutcome? txn) =>
        txn is null ? "none" : $"{txn.Succeeded}: " + string.Join(", ", txn.Results.Select(r =>
            $"{r.Key} {r.Found} v{r.Version} c{r.CreateRevision} m{r.ModRevision} {Convert.ToHexString(r.Value.Span)}"));

    private static byte[] Encode(MapSnapshot snapshot, long number = 7)
    {
        using var stream = new MemoryStream();
        SnapshotFormat.Write(stream, number, snapshot);
        return stream.ToArray();
    }

    private static (long Number, MapSnapshot Snapshot) Decode(byte[] bytes) =>
        SnapshotFormat.Read(new MemoryStream(bytes), bytes.Length);

    [Fact]
    public void A_snapshot_decodes_to_the_state_it_encodes()
    {
        var original = Sample();

        var (number, decoded) = Decode(Encode(original));

        Assert.Equal(7, number);
        Assert.Equal((original.LastIndex, original.LastTerm, original.LastTimestampUnixMs, original.Revision),
            (decoded.LastIndex, decoded.LastTerm, decoded.LastTimestampUnixMs, decoded.Revision));
        Assert.True(original.Revision > 1);
        Assert.Equal(original.Values.Count, decoded.Values.Count);
        foreach (var (key, value) in original.Values)
        {
            var copy = decoded.Values[key];
            Assert.Equal((value.Version, value.TimestampUnixMs, value.CreateRevision, value.ModRevision, value.Lease),
                (copy.Version, copy.TimestampUnixMs, copy.CreateRevision, copy.ModRevision, copy.Lease));
            Assert.Equal(value.Value.ToArray(), copy.Value.ToArray());
        }
        Assert.Equal(original.Clients.Keys.Order(), decoded.Clients.Keys.Order());
        foreach (var (id, client) in original.Clients)
        {
            Assert.Equal(client.Horizon, decoded.Clients[id].Horizon);
            Assert.Equal(client.Applied, decoded.Clients[id].Applied);
            Assert.Equal(client.LastSeenUnixMs, decoded.Clients[id].LastSeenUnixMs);
            Assert.Equal(client.Results.Select(r => r with { Result = r.Result with { Txn = null, Lease = null } }),
                decoded.Clients[id].Results.Select(r => r with { Result = r.Result with { Txn = null, Lease = null } }));
            Assert.Equal(client.Results.Select(r => Describe(r.Result.Txn)), decoded.Clients[id].Results.Select(r => Describe(r.Result.Txn)));
            Assert.Equal(client.Results.Select(r => r.Result.Lease?.Id), decoded.Clients[id].Results.Select(r => r.Result.Lease?.Id));
        }
        Assert.Equal((2L, 2), (decoded.LeasesGranted, decoded.Leases!.Count));
        Assert.Equal(original.Leases!.Select(l => (l.Key, l.Value.TtlMs, l.Value.RemainingMs, l.Value.Renewals)).Order(),
            decoded.Leases.Select(l => (l.Key, l.Value.TtlMs, l.Value.RemainingMs, l.Value.Renewals)).Order());
        Assert.Equal((9000L, 3500L, 1L), (decoded.Leases[LeaseIds.Space(1) + 2].TtlMs, decoded.Leases[LeaseIds.Space(1) + 2].RemainingMs,
            decoded.Leases[LeaseIds.Space(1) + 2].Renewals));
    }

    [Fact]
    public void A_restored_map_finds_each_lease_its_keys_and_numbers_the_next_grant_after_them()
    {
        var restored = KvMap.Restore(Decode(Encode(Sample())).Snapshot);
        var next = restored.AppliedIndex;

        var grant = restored.Apply(new CommittedEntry(++next, 2, 9000, [new KvOperation(OperationKind.LeaseGrant, "{l}", LeaseIds.EncodeTtl(1), Lease: LeaseIds.Space(1))])).Single();
        restored.Apply(new CommittedEntry(++next, 2, 9001, [new KvOperation(OperationKind.LeaseRevoke, "", Lease: LeaseIds.Space(1) + 1)]));

        Assert.Equal(LeaseIds.Space(1) + 3, grant.Lease!.Id);
        Assert.Equal(["{l}held"], restored.Changes.Select(change => change.Kv.Key));
        Assert.Equal(ResultCode.NotFound, restored.Read("{l}held").Code);
    }

    [Fact]
    public void A_snapshot_whose_key_names_a_lease_it_does_not_have_is_refused()
    {
        var sample = Sample();
        var orphaned = sample with { Leases = sample.Leases!.Where(l => l.Key != LeaseIds.Space(1) + 1).ToDictionary() };

        Assert.Throws<SnapshotCorruptException>(() => Decode(Encode(orphaned)));
    }

    [Fact]
    public void A_restored_map_answers_retries_and_refuses_forgotten_ones_as_the_original_did()
    {
        var restored = KvMap.Restore(Decode(Encode(Sample())).Snapshot);
        var next = restored.AppliedIndex;

        var retry = restored.Apply(new CommittedEntry(++next, 2, 5000, [new KvOperation(OperationKind.Create, "a", "dup"u8.ToArray(), null, new ClientRequestId("c1", 2))])).Single();
        var forgotten = restored.Apply(new CommittedEntry(++next, 2, 5001, [new KvOperation(OperationKind.Create, "new", "x"u8.ToArray(), null, new ClientRequestId("c3", 1))])).Single();

        Assert.Equal(ResultCode.AlreadyExists, retry.Code);
        Assert.Equal("key 'a' already exists", retry.Detail);
        Assert.Equal(ResultCode.ResultForgotten, forgotten.Code);
        Assert.Equal(ResultCode.NotFound, restored.Read("new").Code);
    }

    [Fact]
    public void A_snapshot_cut_short_anywhere_is_refused()
    {
        var bytes = Encode(Sample());

        for (var length = 0; length < bytes.Length; length += Math.Max(1, length / 7))
            Assert.Throws<SnapshotCorruptException>(() => Decode(bytes[..length]));
        Assert.Throws<SnapshotCorruptException>(() => Decode(bytes[..^1]));
    }

    [Fact]
    public void A_damaged_byte_anywhere_is_refused()
    {
        var bytes = Encode(Sample());

        for (var i = 0; i < bytes.Length; i += 97)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x01;
            Assert.Throws<SnapshotCorruptException>(() => Decode(damaged));
        }
    }

    [Fact]
    public void A_version_1_snapshot_without_clients_still_loads()
    {
        var version1 = Sealed(writer =>
        {
            writer.Write("KVSN"u8);
            writer.Write((ushort)1);
            writer.Write((ushort)0);
            foreach (var field in new long[] { 4, 1, 0, 77, 1, 0 }) // number, index, term, timestamp, values, clients
                writer.Write(field);
            WriteString(writer, "a");
            writer.Write(1L);
            writer.Write(77L);
            writer.Write(1);
            writer.Write((byte)'x');
        });

        var (_, decoded) = Decode(version1);

        Assert.Equal(1, decoded.Values["a"].Version);
        Assert.Equal(77, decoded.LastTimestampUnixMs);
    }

    [Fact]
    public void A_version_3_snapshot_loads_without_revisions_and_counts_from_the_baseline_on()
    {
        // Version 3: no revision in the header, the values or the results.
        var version3 = Sealed(writer =>
        {
            writer.Write("KVSN"u8);
            writer.Write((ushort)3);
            writer.Write((ushort)0);
            foreach (var field in new long[] { 4, 9, 1, 2000, 1, 1 }) // number, index, term, timestamp, values, clients
                writer.Write(field);
            WriteString(writer, "a");
            writer.Write(2L);
            writer.Write(1000L);
            writer.Write(1);
            writer.Write((byte)'x');
            WriteString(writer, "c");
            writer.Write(1500L);
            writer.Write(false);
            writer.Write(0UL);
            writer.Write((ushort)1);
            writer.Write(1UL);
            writer.Write(1UL);
            writer.Write((ushort)1);
            writer.Write(1UL);
            writer.Write((byte)ResultCode.Ok);
            writer.Write(2L);
            writer.Write(1000L);
            WriteString(writer, "");
        });

        var restored = KvMap.Restore(Decode(version3).Snapshot);
        var before = restored.Read("a");
        restored.Apply(new CommittedEntry(10, 2, 0, [], StartsRevisions: true));
        var atBaseline = restored.Read("a");
        var written = restored.Apply(new CommittedEntry(11, 2, 3000, [new KvOperation(OperationKind.Update, "a", "y"u8.ToArray())])).Single();
        var retried = restored.Apply(new CommittedEntry(12, 2, 3001, [new KvOperation(OperationKind.Create, "a", "z"u8.ToArray(), null, new ClientRequestId("c", 1))])).Single();

        Assert.Equal((2L, 0L, 0L, 0L), (before.Version, before.CreateRevision, before.ModRevision, before.Revision));
        Assert.Equal((1L, 1L, 1L), (atBaseline.CreateRevision, atBaseline.ModRevision, atBaseline.Revision));
        Assert.Equal((3L, 1L, 2L, 2L), (written.Version, written.CreateRevision, written.ModRevision, written.Revision));
        Assert.Equal((ResultCode.Ok, 2L, 0L), (retried.Code, retried.Version, retried.ModRevision));
    }

    [Fact]
    public void A_version_4_snapshot_loads_without_leases()
    {
        // Version 4: revisions, no lease per value or result, no leases section.
        var version4 = Sealed(writer =>
        {
            writer.Write("KVSN"u8);
            writer.Write((ushort)4);
            writer.Write((ushort)0);
            foreach (var field in new long[] { 4, 9, 1, 2000, 1, 1, 6 }) // number, index, term, timestamp, values, clients, revision
                writer.Write(field);
            WriteString(writer, "a");
            foreach (var field in new long[] { 2, 1000, 3, 6 }) // version, timestamp, create and mod revision
                writer.Write(field);
            writer.Write(1);
            writer.Write((byte)'x');
            WriteString(writer, "c");
            writer.Write(1500L);
            writer.Write(false);
            writer.Write(0UL);
            writer.Write((ushort)1);
            writer.Write(1UL);
            writer.Write(1UL);
            writer.Write((ushort)1);
            writer.Write(1UL);
            writer.Write((byte)ResultCode.Ok);
            foreach (var field in new long[] { 2, 1000, 3, 6, 6 }) // version, timestamp, create, mod, revision
                writer.Write(field);
            WriteString(writer, "");
            writer.Write(false); // no transaction
        });

        var (_, decoded) = Decode(version4);
        var restored = KvMap.Restore(decoded);
        var grant = restored.Apply(new CommittedEntry(10, 1, 3000, [new KvOperation(OperationKind.LeaseGrant, "{a}", LeaseIds.EncodeTtl(1000))])).Single();

        Assert.Equal((2L, 3L, 6L, 0L), (decoded.Values["a"].Version, decoded.Values["a"].CreateRevision, decoded.Values["a"].ModRevision, decoded.Values["a"].Lease));
        Assert.Empty(decoded.Leases!);
        Assert.Equal((6L, 1L), (restored.Revision, grant.Lease!.Id));
    }

    private static byte[] Sealed(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            write(writer);
        var bytes = stream.ToArray();
        var sealedBytes = new byte[bytes.Length + 4];
        bytes.CopyTo(sealedBytes, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(sealedBytes.AsSpan(bytes.Length), System.IO.Hashing.Crc32.HashToUInt32(bytes));
        return sealedBytes;
    }

    [Fact]
    public void A_version_2_snapshot_loads_with_its_results_as_the_applied_sequences()
    {
        // Version 2's client record: results in arrival order and the highest forgotten sequence.
        var version2 = Sealed(writer =>
        {
            writer.Write("KVSN"u8);
            writer.Write((ushort)2);
            writer.Write((ushort)0);
            foreach (var field in new long[] { 4, 9, 1, 2000, 1, 1 }) // number, index, term, timestamp, values, clients
                writer.Write(field);
            WriteString(writer, "a");
            writer.Write(1L);
            writer.Write(1000L);
            writer.Write(1);
            writer.Write((byte)'x');
            WriteString(writer, "c");
            writer.Write(1500L);
            writer.Write(true);
            writer.Write(3UL);
            writer.Write((ushort)3);
            foreach (var sequence in new ulong[] { 7, 5, 6 })
            {
                writer.Write(sequence);
                writer.Write((byte)ResultCode.Ok);
                writer.Write((long)sequence);
                writer.Write(1000L);
                WriteString(writer, "");
            }
        });

        var restored = KvMap.Restore(Decode(version2).Snapshot);
        OperationResult Write(long index, string key, ulong sequence) =>
            restored.Apply(new CommittedEntry(index, 2, 3000, [new KvOperation(OperationKind.Create, key, "y"u8.ToArray(), null, new ClientRequestId("c", sequence))])).Single();

        Assert.Equal([new SequenceRange(5, 7)], Decode(version2).Snapshot.Clients["c"].Applied);
        Assert.Equal(6, Write(10, "retry", 6).Version);
        Assert.Equal(ResultCode.RequestTooOld, Write(11, "old", 2).Code);
        Assert.Equal(ResultCode.Ok, Write(12, "new", 4).Code);
        Assert.Equal(ResultCode.NotFound, restored.Read("retry").Code);
        Assert.Equal(ResultCode.NotFound, restored.Read("old").Code);
    }

    private static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ushort)bytes.Length);
        writer.Write(bytes);
    }

    [Fact]
    public void Bytes_after_the_end_are_refused()
    {
        Assert.Throws<SnapshotCorruptException>(() => Decode([.. Encode(Sample()), 0]));
    }
}
