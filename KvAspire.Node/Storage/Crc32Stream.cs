using System.IO.Hashing;

namespace KvAspire.Node.Storage;

/// <summary>
/// Passes bytes through to or from an inner stream while computing their CRC-32. When reading it stops
/// after <c>length</c> bytes, so a trailer after the checksummed part is left for the caller.
/// </summary>
public sealed class Crc32Stream(Stream inner, long length = long.MaxValue) : Stream
{
    private readonly Crc32 _crc = new();
    private long _remaining = length;

    public uint Checksum => _crc.GetCurrentHashAsUInt32();

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _crc.Append(buffer[..read]);
        _remaining -= read;
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _crc.Append(buffer);
        inner.Write(buffer);
    }

    public override void Flush() => inner.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
