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
/// Reads a <c>log.X</c> file record by record. A crash can only damage the tail: the last record may be
/// incomplete, or fail its checksum, or be followed by zeros. That is reported as a torn tail for the
/// caller to cut off. Damage with good data after it is corruption, and stops the scan with an error.
/// </summary>
public static class LogReader
{
    public static LogScan Scan(string path, Action<LogEntry> onEntry)
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
                {
                    if (RestIsZero(file, position, length))
                        return new LogScan(position, records, $"zeros from offset {position}");
                    throw new LogCorruptException($"{path}: damaged record header at offset {position}, with data after it");
                }

                var recordEnd = position + LogRecordFormat.RecordHeaderSize + payloadLength;
                if (recordEnd > length)
                    return new LogScan(position, records, $"record at offset {position} cut short ({length - position} of {recordEnd - position} bytes)");

                if (buffer.Length < payloadLength)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(payloadLength);
                }
                var payload = buffer.AsSpan(0, payloadLength);
                file.ReadExactly(payload);

                var entry = LogRecordFormat.ChecksumMatches(payload, checksum) ? LogRecordFormat.DecodePayload(payload) : null;
                if (entry is null)
                {
                    if (recordEnd == length)
                        return new LogScan(position, records, $"last record at offset {position} fails its checksum");
                    throw new LogCorruptException($"{path}: record at offset {position} fails its checksum, with data after it");
                }

                onEntry(entry);
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

    private static bool RestIsZero(FileStream file, long from, long length)
    {
        file.Position = from;
        var chunk = new byte[8192];
        for (var left = length - from; left > 0;)
        {
            var read = file.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (read == 0 || chunk.AsSpan(0, read).ContainsAnyExcept((byte)0))
                return false;
            left -= read;
        }
        return true;
    }
}
