namespace KvAspire.Node.Storage;

/// <summary>
/// Writes to a file and syncs it to disk every <c>bytesPerSync</c> bytes. A large snapshot written in one
/// go leaves hundreds of megabytes of dirty pages for a single final fsync, and the log's own small fsyncs
/// queue behind that flush; syncing as it goes keeps the disk's backlog, and the writes' latency, small.
/// </summary>
public sealed class PacedSyncStream(FileStream file, long bytesPerSync) : Stream
{
    private long _unsynced;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => file.Length;
    public override long Position { get => file.Position; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        file.Write(buffer);
        _unsynced += buffer.Length;
        if (_unsynced >= bytesPerSync)
            Flush();
    }

    /// <summary>Syncs everything written so far to disk.</summary>
    public override void Flush()
    {
        file.Flush(flushToDisk: true);
        _unsynced = 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
