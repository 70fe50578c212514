using System.Buffers;

namespace KvAspire.Node.Storage;

/// <summary>What a scan of a log file found.</summary>
/// <param name="ValidLength">Bytes up to the end of the last good record (or of the header).</param>
/// <param name="Records">Good records read.</param>
/// <param name="TornTail">Why the bytes after <paramref name="ValidLength"/> are a torn tail, or null if there are none.</param>
public sealed record LogScan(long ValidLength, long Records, string? TornTail);

/// <summary>The log is damaged somewhere other than its tail: serving from it could serve wrong data.</summary>
public sealed class LogCorruptException(string message) : Exception(message);

/// <summary>
/// Reads a <c>log.X</c> file record by record, in file order: Raft entries and commit records. A crash can only damage the tail: the last record may be
/// incomplete or fail its checksum, and anything may follow it (zeros, or bytes of a write that never
/// completed). Damage after which no good record starts at any offset (a header whose length check holds,
/// a payload within the file whose checksum holds and that decodes) is a torn tail, reported for the caller
/// to cut off. Damage with a good record after it is corruption, and stops the scan with an error.
/// </summary>
public static class LogReader
{
    public static LogScan Scan(string path, Action<RaftEntry> onEntry, Action<long> onCommit)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var length = file.Length;
        if (length < LogRecordFormat.FileHeaderSize)
            return new LogScan(0, 0, length == 0 ? null : $"file header cut short at {length} bytes");

        Span<byte> header = stackalloc byte[LogRecordFormat.RecordHeaderSize];
        file.ReadExactly(header[..LogRecordFormat.FileHeaderSize]);
        if (LogRecordFormat.CheckFileHeader(header) is { } headerError)
            throw new LogCorruptException($"{path}: {headerError}");

        long position = LogRecordFormat.FileHeaderSize;
        long records = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (position < length)
            {
                var remaining = length - position;
                if (remaining < LogRecordFormat.RecordHeaderSize)
                    return new LogScan(position, records, $"record header cut short at offset {position}");

                file.ReadExactly(header);
                if (!LogRecordFormat.TryReadRecordHeader(header, out var payloadLength, out var checksum))
                    return TornTailOrCorrupt(file, path, position, length, records, $"damaged record header at offset {position}");

                var recordEnd = position + LogRecordFormat.RecordHeaderSize + payloadLength;
                if (recordEnd > length)
                    return TornTailOrCorrupt(file, path, position, length, records,
                        $"record at offset {position} cut short ({length - position} of {recordEnd - position} bytes)");

                if (buffer.Length < payloadLength)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(payloadLength);
                }
                var payload = buffer.AsSpan(0, payloadLength);
                file.ReadExactly(payload);

                RaftEntry? entry = null;
                long committed = 0;
                if (!LogRecordFormat.ChecksumMatches(payload, checksum) || !LogRecordFormat.TryDecodeRecord(payload, out entry, out committed))
                    return TornTailOrCorrupt(file, path, position, length, records, $"record at offset {position} fails its checksum");

                if (entry is not null)
                    onEntry(entry);
                else
                    onCommit(committed);
                records++;
                position = recordEnd;
            }
            return new LogScan(position, records, null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Damage at <paramref name="position"/>: a torn tail when no good record starts after it, else
    /// <see cref="LogCorruptException"/>. Looks at every later offset, so a good record is found wherever
    /// the damage ends.
    /// </summary>
    private static LogScan TornTailOrCorrupt(FileStream file, string path, long position, long length, long records, string damage)
    {
        var rest = new byte[length - position];
        file.Position = position;
        file.ReadExactly(rest);
        for (var offset = 1; offset + LogRecordFormat.RecordHeaderSize <= rest.Length; offset++)
        {
            if (IsGoodRecordAt(rest.AsSpan(offset)))
                throw new LogCorruptException($"{path}: {damage}, and a good record starts at offset {position + offset} after it");
        }
        return new LogScan(position, records, $"{damage}; no good record after it");
    }

    private static bool IsGoodRecordAt(ReadOnlySpan<byte> bytes)
    {
        if (!LogRecordFormat.TryReadRecordHeader(bytes, out var payloadLength, out var checksum)
            || bytes.Length - LogRecordFormat.RecordHeaderSize < payloadLength)
            return false;
        var payload = bytes.Slice(LogRecordFormat.RecordHeaderSize, payloadLength);
        return LogRecordFormat.ChecksumMatches(payload, checksum) && LogRecordFormat.TryDecodeRecord(payload, out _, out _);
    }
}
