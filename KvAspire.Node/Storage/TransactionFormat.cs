using System.Buffers.Binary;
using System.Text;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// A transaction as <c>log.X</c> keeps it, in the value field of its operation record, all integers
/// little-endian:
/// <code>
/// transaction: | compare count u16 | compare | ... | success count u16 | op | ... | failure count u16 | op | ... |
/// compare:     | key length u16 | key UTF-8 | target u8 | result u8 | number i64 | value length u32 | value |
/// op:          | kind u8 | key length u16 | key UTF-8 | value length u32 | value |
/// </code>
/// </summary>
public static class TransactionFormat
{
    private const int FixedCompareSize = 2 + 1 + 1 + 8 + 4;
    private const int FixedOpSize = 1 + 2 + 4;

    public static int Size(Transaction txn) =>
        6 + txn.Compares.Sum(c => FixedCompareSize + Encoding.UTF8.GetByteCount(c.Key) + c.Value.Length)
          + txn.Success.Concat(txn.Failure).Sum(o => FixedOpSize + Encoding.UTF8.GetByteCount(o.Key) + o.Value.Length);

    /// <summary>Writes <paramref name="txn"/> into <paramref name="destination"/>, which holds at least <see cref="Size"/> bytes; returns the bytes written.</summary>
    public static int Write(Transaction txn, Span<byte> destination)
    {
        var offset = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(destination, checked((ushort)txn.Compares.Count));
        offset += 2;
        foreach (var compare in txn.Compares)
        {
            offset += LogRecordFormat.WriteString(compare.Key, destination[offset..]);
            destination[offset++] = (byte)compare.Target;
            destination[offset++] = (byte)compare.Result;
            BinaryPrimitives.WriteInt64LittleEndian(destination[offset..], compare.Number);
            offset += 8;
            offset += WriteBytes(compare.Value.Span, destination[offset..]);
        }
        foreach (var branch in new[] { txn.Success, txn.Failure })
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[offset..], checked((ushort)branch.Count));
            offset += 2;
            foreach (var op in branch)
            {
                destination[offset++] = (byte)op.Kind;
                offset += LogRecordFormat.WriteString(op.Key, destination[offset..]);
                offset += WriteBytes(op.Value.Span, destination[offset..]);
            }
        }
        return offset;
    }

    /// <summary>The transaction in <paramref name="bytes"/>, or null when they are not one.</summary>
    public static Transaction? Read(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        if (!TryReadCount(bytes, ref offset, out var compareCount))
            return null;
        var compares = new List<TransactionCompare>(compareCount);
        for (var i = 0; i < compareCount; i++)
        {
            if (!LogRecordFormat.TryReadString(bytes, ref offset, out var key) || bytes.Length - offset < 10)
                return null;
            var target = (CompareTarget)bytes[offset++];
            var result = (CompareResult)bytes[offset++];
            var number = BinaryPrimitives.ReadInt64LittleEndian(bytes[offset..]);
            offset += 8;
            if (!Enum.IsDefined(target) || !Enum.IsDefined(result) || !TryReadBytes(bytes, ref offset, out var value))
                return null;
            compares.Add(new TransactionCompare(key, target, result, number, value));
        }
        var branches = new List<TransactionOp>[2];
        for (var b = 0; b < 2; b++)
        {
            if (!TryReadCount(bytes, ref offset, out var count))
                return null;
            branches[b] = new List<TransactionOp>(count);
            for (var i = 0; i < count; i++)
            {
                if (bytes.Length - offset < 1)
                    return null;
                var kind = (TransactionOpKind)bytes[offset++];
                if (!Enum.IsDefined(kind) || !LogRecordFormat.TryReadString(bytes, ref offset, out var key) || !TryReadBytes(bytes, ref offset, out var value))
                    return null;
                branches[b].Add(new TransactionOp(kind, key, value));
            }
        }
        return offset == bytes.Length ? new Transaction(compares, branches[0], branches[1]) : null;
    }

    private static int WriteBytes(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, bytes.Length);
        bytes.CopyTo(destination[4..]);
        return 4 + bytes.Length;
    }

    private static bool TryReadCount(ReadOnlySpan<byte> bytes, ref int offset, out int count)
    {
        count = 0;
        if (bytes.Length - offset < 2)
            return false;
        count = BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]);
        offset += 2;
        return true;
    }

    private static bool TryReadBytes(ReadOnlySpan<byte> bytes, ref int offset, out byte[] value)
    {
        value = [];
        if (bytes.Length - offset < 4)
            return false;
        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
        offset += 4;
        if (length < 0 || length > bytes.Length - offset)
            return false;
        value = bytes.Slice(offset, length).ToArray();
        offset += length;
        return true;
    }
}
