using System.Text;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>The snapshot is unreadable, cut short or fails its checksum: it must not be loaded.</summary>
public sealed class SnapshotCorruptException(string message) : Exception(message);

/// <summary>
/// The layout of <c>snap.X</c>, all integers little-endian:
/// <code>
/// header:  | magic "KVSN" | format version u16 | reserved u16 | snapshot number i64 | last index i64 |
///          | last term i64 | last timestamp unix ms i64 | value count i64 | client count i64 | revision i64 |
/// values:  | key length u16 | key UTF-8 | version i64 | timestamp i64 | create revision i64 | mod revision i64 |
///          | lease i64 | value length u32 | value |   × value count
/// clients: | id length u16 | id UTF-8 | last seen unix ms i64 | has horizon u8 | horizon u64 |
///          | range count u16 | ranges: first u64 | last u64 | result count u16 |
///          | results: sequence u64 | code u8 | version i64 | timestamp i64 | create revision i64 |
///          |          mod revision i64 | revision i64 | detail length u16 | detail | txn | lease |   × client count
/// txn:     | has txn u8 | (if it has) succeeded u8 | op count u16 |
///          | ops: key length u16 | key | found u8 | version i64 | create revision i64 | mod revision i64 |
///          |      value length u32 | value |
/// lease:   | has lease u8 | (if it has) id i64 | ttl ms i64 | remaining ms i64 | renewals i64 |
/// leases:  | leases granted i64 | lease count i64 | id i64 | ttl ms i64 | remaining ms i64 | renewals i64 |
///          | placed with: length u16 | key UTF-8 (none: length 0) |   × lease count
/// claim:   | has claim u8 | (if it has) epoch i64 | id bits u8 | placement tags u8 | has after u8 | after id u64 | up to id u64 |
/// move:    | length i32 | the move a giver is fenced for (<see cref="MovePlan.Encode"/>; none: length 0) | copy epoch i64 |
///          | copy revision i64 | length i32 | the move of that copy (none: length 0) |
/// given:   | count i64 | lease id i64 | key length u16 | the key it lives with |   × count
/// trailer: | CRC-32 of every byte before it u32 |
/// </code>
/// Values, ranges and results are written in the map's order and the counts are checked on reading, so
/// a snapshot cut short anywhere, or damaged anywhere, fails to load rather than loading wrong.
/// Older versions still load. Version 8 had no lease's placement and no given leases (a lease did not move). Version 7 had no copy's revision and move (a taker's watchers did not wait for the giver's events). Version 6 had no move (no position was fenced for one across a restart). Version 5 had no claim (the position served every key routed to it). Version 4 had no leases (no lease per value and result, no leases section).
/// Version 3 had no revisions (they load as 0: the position had not started
/// counting, as a release before revisions wrote only such snapshots). Version 2 had no ranges: a client's applied sequences were those of its
/// results, and its horizon was the highest sequence it had forgotten. Version 1 also had no "last seen"
/// per client; it is read with the snapshot's last timestamp instead.
/// </summary>
public static class SnapshotFormat
{
    public const ushort FormatVersion = 9;
    private static ReadOnlySpan<byte> Magic => "KVSN"u8;
    private const int BufferSize = 1 << 20;

    public static void Write(Stream destination, long number, MapSnapshot snapshot)
    {
        var checksummed = new Crc32Stream(destination);
        using (var writer = new BinaryWriter(new BufferedStream(checksummed, BufferSize), Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write((ushort)0);
            writer.Write(number);
            writer.Write(snapshot.LastIndex);
            writer.Write(snapshot.LastTerm);
            writer.Write(snapshot.LastTimestampUnixMs);
            writer.Write((long)snapshot.Values.Count);
            writer.Write((long)snapshot.Clients.Count);
            writer.Write(snapshot.Revision);
            foreach (var (key, stored) in snapshot.Values)
            {
                WriteString(writer, key);
                writer.Write(stored.Version);
                writer.Write(stored.TimestampUnixMs);
                writer.Write(stored.CreateRevision);
                writer.Write(stored.ModRevision);
                writer.Write(stored.Lease);
                writer.Write(stored.Value.Length);
                writer.Write(stored.Value.Span);
            }
            foreach (var (id, client) in snapshot.Clients)
            {
                WriteString(writer, id);
                writer.Write(client.LastSeenUnixMs);
                writer.Write(client.Horizon.HasValue);
                writer.Write(client.Horizon ?? 0);
                writer.Write(checked((ushort)client.Applied.Count));
                foreach (var range in client.Applied)
                {
                    writer.Write(range.First);
                    writer.Write(range.Last);
                }
                writer.Write(checked((ushort)client.ResultCount));
                foreach (var (sequence, result) in client.Results)
                {
                    writer.Write(sequence);
                    writer.Write((byte)result.Code);
                    writer.Write(result.Version);
                    writer.Write(result.TimestampUnixMs);
                    writer.Write(result.CreateRevision);
                    writer.Write(result.ModRevision);
                    writer.Write(result.Revision);
                    WriteString(writer, result.Detail ?? "");
                    WriteTxnOutcome(writer, result.Txn);
                    WriteLease(writer, result.Lease);
                }
            }
            var leases = snapshot.Leases ?? new Dictionary<long, StoredLease>();
            writer.Write(snapshot.LeasesGranted);
            writer.Write((long)leases.Count);
            foreach (var (id, lease) in leases)
            {
                WriteLease(writer, new LeaseInfo(id, lease.TtlMs, lease.RemainingMs, lease.Renewals, []), withFlag: false);
                WriteString(writer, lease.PlacedWith ?? "");
            }
            writer.Write(snapshot.Claim is not null);
            if (snapshot.Claim is { } claim)
            {
                writer.Write(claim.Epoch);
                writer.Write((byte)claim.IdBits);
                writer.Write(claim.PlacementTags);
                writer.Write(claim.AfterId.HasValue);
                writer.Write(claim.AfterId ?? 0);
                writer.Write(claim.UpToId);
            }
            var move = snapshot.Move?.Encode() ?? [];
            writer.Write(move.Length);
            writer.Write(move);
            writer.Write(snapshot.CopyEpoch);
            writer.Write(snapshot.CopyRevision);
            var copyMove = snapshot.CopyMove?.Encode() ?? [];
            writer.Write(copyMove.Length);
            writer.Write(copyMove);
            var given = snapshot.GivenLeases ?? new Dictionary<long, string>();
            writer.Write((long)given.Count);
            foreach (var (id, home) in given)
            {
                writer.Write(id);
                WriteString(writer, home);
            }
        }
        Span<byte> trailer = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer, checksummed.Checksum);
        destination.Write(trailer);
    }

    /// <summary>A snapshot in memory (a part of a move's copy: <see cref="RangeExport"/>).</summary>
    public static byte[] Encode(MapSnapshot snapshot)
    {
        using var stream = new MemoryStream();
        Write(stream, 0, snapshot);
        return stream.ToArray();
    }

    /// <exception cref="SnapshotCorruptException">The bytes are not a whole snapshot.</exception>
    public static MapSnapshot Decode(ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        return Read(new MemoryStream(copy), copy.Length).Snapshot;
    }

    /// <summary>Reads a whole snapshot of <paramref name="length"/> bytes; returns its number and state.</summary>
    public static (long Number, MapSnapshot Snapshot) Read(Stream source, long length)
    {
        if (length < 4)
            throw new SnapshotCorruptException($"only {length} bytes: no header");
        var checksummed = new Crc32Stream(source, length - 4);
        try
        {
            using var reader = new BinaryReader(new BufferedStream(checksummed, BufferSize), Encoding.UTF8, leaveOpen: true);
            if (!reader.ReadBytes(4).AsSpan().SequenceEqual(Magic))
                throw new SnapshotCorruptException("not a KvAspire snapshot (bad magic)");
            var version = reader.ReadUInt16();
            if (version is < 1 or > FormatVersion)
                throw new SnapshotCorruptException($"snapshot format version {version} is not supported (expected 1 to {FormatVersion})");
            reader.ReadUInt16();
            var number = reader.ReadInt64();
            var lastIndex = reader.ReadInt64();
            var lastTerm = reader.ReadInt64();
            var lastTimestamp = reader.ReadInt64();
            var valueCount = reader.ReadInt64();
            var clientCount = reader.ReadInt64();
            var revision = version >= 4 ? reader.ReadInt64() : 0;
            if (valueCount < 0 || clientCount < 0 || valueCount > length || clientCount > length)
                throw new SnapshotCorruptException($"impossible counts ({valueCount} values, {clientCount} clients)");

            var values = new Dictionary<string, StoredValue>((int)valueCount, StringComparer.Ordinal);
            for (var i = 0L; i < valueCount; i++)
            {
                var key = ReadString(reader);
                var entryVersion = reader.ReadInt64();
                var timestamp = reader.ReadInt64();
                var (createRevision, modRevision) = version >= 4 ? (reader.ReadInt64(), reader.ReadInt64()) : (0, 0);
                var lease = version >= 5 ? reader.ReadInt64() : 0;
                var valueLength = reader.ReadInt32();
                if (valueLength < 0 || valueLength > length)
                    throw new SnapshotCorruptException($"value {i} claims {valueLength} bytes");
                var value = reader.ReadBytes(valueLength);
                if (value.Length != valueLength)
                    throw new EndOfStreamException();
                values[key] = new StoredValue(value, entryVersion, timestamp, createRevision, modRevision, lease);
            }

            var clients = new Dictionary<string, ClientSession>((int)clientCount, StringComparer.Ordinal);
            for (var i = 0L; i < clientCount; i++)
            {
                var id = ReadString(reader);
                var lastSeen = version >= 2 ? reader.ReadInt64() : lastTimestamp;
                var hasHorizon = reader.ReadBoolean();
                var horizon = reader.ReadUInt64();
                var ranges = new List<SequenceRange>();
                if (version >= 3)
                {
                    var rangeCount = reader.ReadUInt16();
                    for (var r = 0; r < rangeCount; r++)
                        ranges.Add(new SequenceRange(reader.ReadUInt64(), reader.ReadUInt64()));
                }
                var resultCount = reader.ReadUInt16();
                var results = new List<(ulong, OperationResult)>(resultCount);
                for (var r = 0; r < resultCount; r++)
                {
                    var sequence = reader.ReadUInt64();
                    var code = (ResultCode)reader.ReadByte();
                    var resultVersion = reader.ReadInt64();
                    var resultTimestamp = reader.ReadInt64();
                    var (resultCreate, resultMod, resultRevision) = version >= 4 ? (reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64()) : (0, 0, 0);
                    var detail = ReadString(reader);
                    var txn = version >= 4 ? ReadTxnOutcome(reader, length) : null;
                    var resultLease = version >= 5 && reader.ReadBoolean() ? ReadLease(reader) : null;
                    results.Add((sequence, new OperationResult(code, resultVersion, resultTimestamp, Detail: detail.Length == 0 ? null : detail,
                        CreateRevision: resultCreate, ModRevision: resultMod, Revision: resultRevision, Txn: txn, Lease: resultLease)));
                }
                if (version < 3)
                    ranges.AddRange(results.Select(r => new SequenceRange(r.Item1, r.Item1)));
                try
                {
                    clients[id] = ClientSession.Restore(lastSeen, hasHorizon ? horizon : null, ranges, results);
                }
                catch (ArgumentException e)
                {
                    throw new SnapshotCorruptException($"client '{id}': {e.Message}");
                }
            }

            var leases = new Dictionary<long, StoredLease>();
            var leasesGranted = 0L;
            if (version >= 5)
            {
                leasesGranted = reader.ReadInt64();
                var leaseCount = reader.ReadInt64();
                if (leaseCount < 0 || leaseCount > length)
                    throw new SnapshotCorruptException($"impossible lease count {leaseCount}");
                for (var i = 0L; i < leaseCount; i++)
                {
                    var lease = ReadLease(reader);
                    var placedWith = version >= 9 ? ReadString(reader) : "";
                    leases[lease.Id] = new StoredLease(lease.TtlMs, lease.RemainingMs, lease.Renewals, StoredLease.NoKeys, placedWith.Length == 0 ? null : placedWith);
                }
            }
            if (values.Values.FirstOrDefault(v => v.Lease != 0 && !leases.ContainsKey(v.Lease)) is { Lease: not 0 } orphan)
                throw new SnapshotCorruptException($"a key is held by lease {orphan.Lease}, which the snapshot does not have");
            var claim = version >= 6 && reader.ReadBoolean() ? ReadClaim(reader) : null;
            var (move, copyEpoch) = version >= 7 ? (ReadMove(reader, length), reader.ReadInt64()) : (null, 0);
            var (copyRevision, copyMove) = version >= 8 ? (reader.ReadInt64(), ReadMove(reader, length)) : (0, null);
            var given = new Dictionary<long, string>();
            if (version >= 9)
            {
                var givenCount = reader.ReadInt64();
                if (givenCount < 0 || givenCount > length)
                    throw new SnapshotCorruptException($"impossible count of leases given away {givenCount}");
                for (var i = 0L; i < givenCount; i++)
                    given[reader.ReadInt64()] = ReadString(reader);
            }
            if (reader.Read(new byte[1], 0, 1) != 0)
                throw new SnapshotCorruptException("bytes after the last section");
            Span<byte> trailer = stackalloc byte[4];
            source.ReadExactly(trailer);
            var expected = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            if (expected != checksummed.Checksum)
                throw new SnapshotCorruptException("checksum mismatch");
            return (number, new MapSnapshot(lastIndex, lastTerm, lastTimestamp, revision, values, clients, leases, leasesGranted, claim, move, copyEpoch, copyRevision, copyMove, given));
        }
        catch (EndOfStreamException)
        {
            throw new SnapshotCorruptException("cut short");
        }
        catch (DecoderFallbackException)
        {
            throw new SnapshotCorruptException("a key is not valid UTF-8");
        }
    }

    private static void WriteTxnOutcome(BinaryWriter writer, TransactionOutcome? txn)
    {
        writer.Write(txn is not null);
        if (txn is null)
            return;
        writer.Write(txn.Succeeded);
        writer.Write(checked((ushort)txn.Results.Count));
        foreach (var op in txn.Results)
        {
            WriteString(writer, op.Key);
            writer.Write(op.Found);
            writer.Write(op.Version);
            writer.Write(op.CreateRevision);
            writer.Write(op.ModRevision);
            writer.Write(op.Value.Length);
            writer.Write(op.Value.Span);
        }
    }

    private static TransactionOutcome? ReadTxnOutcome(BinaryReader reader, long length)
    {
        if (!reader.ReadBoolean())
            return null;
        var succeeded = reader.ReadBoolean();
        var results = new TransactionOpResult[reader.ReadUInt16()];
        for (var i = 0; i < results.Length; i++)
        {
            var key = ReadString(reader);
            var (found, version, create, modify) = (reader.ReadBoolean(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
            var valueLength = reader.ReadInt32();
            if (valueLength < 0 || valueLength > length)
                throw new SnapshotCorruptException($"a transaction's result claims {valueLength} bytes");
            var value = reader.ReadBytes(valueLength);
            if (value.Length != valueLength)
                throw new EndOfStreamException();
            results[i] = new TransactionOpResult(key, found, version, create, modify, value);
        }
        return new TransactionOutcome(succeeded, results);
    }

    private static void WriteLease(BinaryWriter writer, LeaseInfo? lease, bool withFlag = true)
    {
        if (withFlag)
            writer.Write(lease is not null);
        if (lease is null)
            return;
        writer.Write(lease.Id);
        writer.Write(lease.TtlMs);
        writer.Write(lease.RemainingMs);
        writer.Write(lease.Renewals);
    }

    private static OwnedRange ReadClaim(BinaryReader reader)
    {
        var (epoch, idBits, tags, hasAfter, after, upTo) =
            (reader.ReadInt64(), reader.ReadByte(), reader.ReadBoolean(), reader.ReadBoolean(), reader.ReadUInt64(), reader.ReadUInt64());
        if (epoch < 1 || idBits is < 1 or > 64)
            throw new SnapshotCorruptException($"impossible claim: epoch {epoch}, {idBits}-bit ids");
        return new OwnedRange(epoch, idBits, tags, hasAfter ? after : null, upTo);
    }

    private static MovePlan? ReadMove(BinaryReader reader, long length)
    {
        var size = reader.ReadInt32();
        if (size < 0 || size > length)
            throw new SnapshotCorruptException($"a move of {size} bytes");
        if (size == 0)
            return null;
        try
        {
            return MovePlan.Decode(reader.ReadBytes(size));
        }
        catch (FormatException e)
        {
            throw new SnapshotCorruptException($"the move the position is fenced for: {e.Message}");
        }
    }

    private static LeaseInfo ReadLease(BinaryReader reader) => new(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), []);

    private static void WriteString(BinaryWriter writer, string text)
    {
        // Keys are at most 1 KiB, so the bytes nearly always fit on the stack: no garbage per key.
        var length = Encoding.UTF8.GetByteCount(text);
        var bytes = length <= 4096 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(text, bytes);
        writer.Write(checked((ushort)length));
        writer.Write(bytes);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string ReadString(BinaryReader reader)
    {
        var length = reader.ReadUInt16();
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length)
            throw new EndOfStreamException();
        return StrictUtf8.GetString(bytes);
    }
}
