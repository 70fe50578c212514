namespace KvAspire.Node.Storage;

/// <summary>
/// F2's file: <c>log.X</c>, kept open, written only at its end. A batch of records is one write and one
/// fsync, so entries that arrive together share the cost of making them durable.
/// </summary>
public sealed class OperationLog : IDisposable
{
    private readonly FileStream _file;
    private byte[] _buffer = new byte[64 * 1024];

    private long _length;

    private OperationLog(long number, string path, FileStream file)
    {
        Number = number;
        Path = path;
        _file = file;
        _length = file.Length;
    }

    /// <summary>X of <c>log.X</c>.</summary>
    public long Number { get; }

    public string Path { get; }

    /// <summary>Bytes in the file, kept here so that reading it costs no system call.</summary>
    public long Length => _length;

    /// <summary>
    /// Opens <c>log.X</c> for appending after its first <paramref name="validLength"/> bytes (what a scan
    /// found good; anything after is cut off). A new or empty log gets its header, durably.
    /// </summary>
    public static OperationLog Open(string directory, long number, long validLength)
    {
        var path = System.IO.Path.Combine(directory, DataFiles.LogName(number));
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            if (validLength < LogRecordFormat.FileHeaderSize)
            {
                file.SetLength(0);
                Span<byte> header = stackalloc byte[LogRecordFormat.FileHeaderSize];
                LogRecordFormat.WriteFileHeader(header);
                file.Write(header);
                file.Flush(flushToDisk: true);
                FileSync.Directory(directory);
            }
            else if (file.Length != validLength)
            {
                file.SetLength(validLength);
                file.Flush(flushToDisk: true);
            }
            file.Seek(0, SeekOrigin.End);
            return new OperationLog(number, path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends the entries, and a commit record when <paramref name="committed"/> is given, and returns once
    /// they are on disk: one write and one sync for the batch.
    /// </summary>
    public void Append(IReadOnlyList<RaftEntry> entries, long? committed)
    {
        var size = committed.HasValue ? LogRecordFormat.CommitRecordSize : 0;
        foreach (var entry in entries)
            size += LogRecordFormat.EntryRecordSize(entry);
        if (_buffer.Length < size)
            _buffer = new byte[Math.Max(size, _buffer.Length * 2)];

        var offset = 0;
        foreach (var entry in entries)
            offset += LogRecordFormat.WriteEntryRecord(entry, _buffer.AsSpan(offset));
        if (committed is { } index)
            offset += LogRecordFormat.WriteCommitRecord(index, _buffer.AsSpan(offset));
        _file.Write(_buffer, 0, offset);
        _length += offset;
        _file.Flush(flushToDisk: true);
    }

    public void Dispose() => _file.Dispose();
}
